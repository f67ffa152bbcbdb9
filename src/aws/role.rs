//! Working in each site's own account (`--role-name`): the base credentials (profile or the
//! standard chain) assume `arn:aws:iam::{account}:role/{name}` of the config's account, and every
//! client of that config's run uses the role's credentials. The account guard then checks the
//! assumed identity like any other.
//!
//! One fleet run assumes each account's role once: a [`RoleCache`] shared by every config of the
//! run holds one [`AccountRole`] per account, and an account's first config assumes the role
//! while the others of that account wait for its answer (the lock is held across the call, so two
//! configs of one account running in parallel never both assume). The credentials are kept and
//! handed to every client; shortly before they expire (long fleet runs) the next request assumes
//! the role again. A role that cannot be assumed fails the configs of that account, once, with a
//! message naming the role and the account; the rest of the fleet goes on.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, error::CredentialsError};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_types::SdkConfig;

use super::TIMEOUTS;

/// Assume the role again when its credentials have less than this left: more than any single
/// request with its retries can take, so no request starts with credentials about to expire.
pub const REFRESH_MARGIN: Duration = Duration::from_mins(5);

/// The longest role session name STS accepts.
const SESSION_NAME_MAX: usize = 64;

/// `--role-name` and `--external-id`, with the run's cache of assumed roles.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    /// The role's name (the same in every account).
    pub name: String,
    /// The external id the role's trust policy asks for, if any.
    pub external_id: Option<String>,
    /// Shared by every config of one run.
    pub cache: RoleCache,
}

impl RoleSpec {
    /// The ARN of the role in `account`.
    pub fn arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:role/{}", self.name)
    }
}

/// The roles assumed by one run, one per account (see the module comment). Cloning shares it.
#[derive(Clone, Default)]
pub struct RoleCache {
    inner: Arc<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    accounts: Mutex<HashMap<String, Arc<AccountRole>>>,
    /// Where AssumeRole goes instead of STS of the base credentials (tests with mocks).
    sts: Option<aws_sdk_sts::Client>,
}

impl fmt::Debug for RoleCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accounts = self
            .inner
            .accounts
            .lock()
            .map(|a| a.len())
            .unwrap_or_default();
        f.debug_struct("RoleCache")
            .field("accounts", &accounts)
            .finish_non_exhaustive()
    }
}

impl RoleCache {
    /// An empty cache: roles are assumed through STS with each run's base credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache whose AssumeRole calls all go to `sts` (a client answered by mocks, in tests).
    pub fn with_sts_client(sts: aws_sdk_sts::Client) -> Self {
        RoleCache {
            inner: Arc::new(CacheInner {
                accounts: Mutex::default(),
                sts: Some(sts),
            }),
        }
    }

    /// How many AssumeRole calls this cache has made, over all accounts.
    pub fn assume_role_calls(&self) -> usize {
        self.inner
            .accounts
            .lock()
            .map(|accounts| accounts.values().map(|role| role.calls()).sum())
            .unwrap_or_default()
    }

    /// The role of `account`, made on first use from `base` (the base credentials and region).
    pub(crate) fn account_role(
        &self,
        spec: &RoleSpec,
        account: &str,
        deployment: &str,
        base: &SdkConfig,
    ) -> Arc<AccountRole> {
        let mut accounts = self
            .inner
            .accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(accounts.entry(account.to_owned()).or_insert_with(|| {
            let sts = self.inner.sts.clone().unwrap_or_else(|| {
                let config = aws_sdk_sts::config::Builder::from(base)
                    .timeout_config(TIMEOUTS.config())
                    .build();
                aws_sdk_sts::Client::from_conf(config)
            });
            Arc::new(AccountRole {
                arn: spec.arn(account),
                account: account.to_owned(),
                external_id: spec.external_id.clone(),
                session_name: session_name(deployment),
                sts,
                state: tokio::sync::Mutex::new(State::Empty),
                calls: AtomicUsize::new(0),
            })
        }))
    }
}

/// The role session name CloudTrail shows: the tool and the deployment whose run assumed the
/// role first, cut to STS's 64 characters of `[\w+=,.@-]`.
pub fn session_name(deployment: &str) -> String {
    let name: String = format!("{}-{deployment}", crate::about::TOOL)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(SESSION_NAME_MAX)
        .collect();
    name
}

/// One account's role and its current credentials.
pub struct AccountRole {
    arn: String,
    account: String,
    external_id: Option<String>,
    session_name: String,
    sts: aws_sdk_sts::Client,
    state: tokio::sync::Mutex<State>,
    calls: AtomicUsize,
}

enum State {
    Empty,
    Ready(Credentials),
    /// The role could not be assumed (and never was in this run): the same answer for every
    /// config of the account, without asking STS again.
    Failed(String),
}

impl fmt::Debug for AccountRole {
    // Never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRole")
            .field("arn", &self.arn)
            .field("session_name", &self.session_name)
            .finish_non_exhaustive()
    }
}

/// A role that could not be assumed (exit 1: AWS's answer, like any other access denied).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct RoleError(pub String);

impl AccountRole {
    /// The role's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The role session's name.
    pub fn session_name(&self) -> &str {
        &self.session_name
    }

    /// AssumeRole calls made for this account.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// The role's credentials: the kept ones while they have more than [`REFRESH_MARGIN`] left,
    /// else assumed now (one caller at a time; the others get its answer).
    pub async fn credentials(&self) -> Result<Credentials, RoleError> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Ready(credentials) if !expiring(credentials) => {
                return Ok(credentials.clone());
            }
            State::Failed(message) => return Err(RoleError(message.clone())),
            State::Ready(_) | State::Empty => {}
        }
        match self.assume().await {
            Ok(credentials) => {
                *state = State::Ready(credentials.clone());
                Ok(credentials)
            }
            Err(error) => {
                if matches!(*state, State::Empty) {
                    *state = State::Failed(error.0.clone());
                }
                Err(error)
            }
        }
    }

    async fn assume(&self) -> Result<Credentials, RoleError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let answer = self
            .sts
            .assume_role()
            .role_arn(&self.arn)
            .role_session_name(&self.session_name)
            .set_external_id(self.external_id.clone())
            .send()
            .await;
        let response = answer.map_err(|error| {
            let why = match error.as_service_error() {
                Some(service) => format!(
                    "{}: {}",
                    service.code().unwrap_or("UnknownError"),
                    service.message().unwrap_or("no message")
                ),
                None => format!("{:#}", super::error::describe(error)),
            };
            RoleError(format!(
                "cannot assume role {} in account {} (the config's client.account_id, with --role-name): {why}. Nothing was changed in that account. Check that the role exists there and that its trust policy lets the base credentials assume it{} (docs/fleets.md shows the trust policy)",
                self.arn,
                self.account,
                if self.external_id.is_some() {
                    " with this --external-id"
                } else {
                    ""
                }
            ))
        })?;
        let Some(given) = response.credentials() else {
            return Err(RoleError(format!(
                "sts:AssumeRole of {} in account {} returned no credentials; nothing was changed in that account",
                self.arn, self.account
            )));
        };
        let expiry = SystemTime::try_from(*given.expiration()).ok();
        Ok(Credentials::new(
            given.access_key_id(),
            given.secret_access_key(),
            Some(given.session_token().to_owned()),
            expiry,
            "s3-provisioner --role-name",
        ))
    }
}

fn expiring(credentials: &Credentials) -> bool {
    credentials
        .expiry()
        .is_some_and(|expiry| expiry <= SystemTime::now() + REFRESH_MARGIN)
}

/// The SDK's view of an [`AccountRole`]: every client of a run asks it for credentials (the SDK
/// asks again when they near their expiry).
#[derive(Debug, Clone)]
pub(crate) struct RoleCredentials(pub Arc<AccountRole>);

impl ProvideCredentials for RoleCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.0
                .credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sts::operation::assume_role::{AssumeRoleError, AssumeRoleOutput};
    use aws_smithy_mocks::{Rule, mock};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::aws::mocks::sts;

    const ACCOUNT: &str = "222222222222";

    /// AssumeRole answered with credentials valid for `valid_for`, as STS shapes them.
    fn granted(valid_for: Duration) -> Rule {
        mock!(aws_sdk_sts::Client::assume_role).then_output(move || {
            let expiration = aws_smithy_types::DateTime::from(SystemTime::now() + valid_for);
            AssumeRoleOutput::builder()
                .credentials(
                    aws_sdk_sts::types::Credentials::builder()
                        .access_key_id("ASIAROLE")
                        .secret_access_key("role-secret")
                        .session_token("role-token")
                        .expiration(expiration)
                        .build()
                        .unwrap(),
                )
                .build()
        })
    }

    /// STS's answer when the trust policy does not let the caller in.
    fn denied() -> Rule {
        mock!(aws_sdk_sts::Client::assume_role).then_error(|| {
            AssumeRoleError::generic(
                ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/s3p-deployer")
                    .build(),
            )
        })
    }

    fn spec(cache: &RoleCache) -> RoleSpec {
        RoleSpec {
            name: "s3p-deployer".into(),
            external_id: None,
            cache: cache.clone(),
        }
    }

    fn base() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    #[tokio::test]
    async fn configs_of_one_account_running_at_once_assume_its_role_once() {
        let rule = granted(Duration::from_hours(1));
        let cache = RoleCache::with_sts_client(sts(&[&rule]));
        let spec = spec(&cache);
        let roles: Vec<Arc<AccountRole>> = ["site-a", "site-b", "site-c"]
            .iter()
            .map(|d| cache.account_role(&spec, ACCOUNT, d, &base()))
            .collect();
        let (a, b, c) = tokio::join!(
            roles[0].credentials(),
            roles[1].credentials(),
            roles[2].credentials()
        );
        for credentials in [a, b, c] {
            assert_eq!(credentials.unwrap().access_key_id(), "ASIAROLE");
        }
        assert_eq!(rule.num_calls(), 1);
        assert_eq!(cache.assume_role_calls(), 1);
        // The session is named after the deployment that asked first.
        assert_eq!(roles[2].session_name(), "s3-provisioner-site-a");
    }

    #[tokio::test]
    async fn credentials_near_their_expiry_are_renewed_by_assuming_the_role_again() {
        let answer = granted(REFRESH_MARGIN / 2);
        let cache = RoleCache::with_sts_client(sts(&[&answer]));
        let role = cache.account_role(&spec(&cache), ACCOUNT, "site-a", &base());
        role.credentials().await.unwrap();
        role.credentials().await.unwrap();
        assert_eq!(answer.num_calls(), 2, "expiring credentials are not reused");
    }

    #[tokio::test]
    async fn a_role_that_cannot_be_assumed_names_the_role_and_the_account_once_per_account() {
        let rule = denied();
        let cache = RoleCache::with_sts_client(sts(&[&rule]));
        let spec = spec(&cache);
        let first = cache.account_role(&spec, ACCOUNT, "site-a", &base());
        let error = first.credentials().await.unwrap_err().to_string();
        assert!(
            error.starts_with(
                "cannot assume role arn:aws:iam::222222222222:role/s3p-deployer in account 222222222222"
            ),
            "{error}"
        );
        assert!(
            error.contains(
                "AccessDenied: User: arn:aws:iam::123456789012:user/ci is not authorized"
            ),
            "{error}"
        );
        assert!(error.contains("trust policy"), "{error}");
        // The account's other configs get the same answer without asking STS again.
        let second = cache.account_role(&spec, ACCOUNT, "site-b", &base());
        assert_eq!(second.credentials().await.unwrap_err().to_string(), error);
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn connecting_with_a_role_that_cannot_be_assumed_is_a_runtime_failure_naming_it() {
        let rule = denied();
        let cache = RoleCache::with_sts_client(sts(&[&rule]));
        let options = super::super::AwsOptions {
            region: "us-west-1".into(),
            profile: None,
            role: Some(super::super::AssumedRole {
                spec: spec(&cache),
                account_id: ACCOUNT.into(),
                deployment: "edge-prod-b001-us-west-1-s3".into(),
            }),
            cfn_limiter: None,
            http_client: None,
        };
        let error = super::super::AwsClients::connect(&options)
            .await
            .unwrap_err();
        assert_eq!(
            crate::exit::status_for_error(&error),
            crate::exit::ExitStatus::Failure
        );
        let message = format!("{error:#}");
        assert!(
            message.contains("arn:aws:iam::222222222222:role/s3p-deployer"),
            "{message}"
        );
        assert!(!message.contains("role-secret"));
    }

    #[test]
    fn session_names_name_the_tool_and_the_deployment_within_the_limit() {
        assert_eq!(
            session_name("edge-prod-b001-us-west-1-s3"),
            "s3-provisioner-edge-prod-b001-us-west-1-s3"
        );
        let long = session_name(&"a".repeat(80));
        assert_eq!(long.len(), 64);
        assert!(long.starts_with("s3-provisioner-aaa"));
        assert_eq!(session_name("a b/c"), "s3-provisioner-a-b-c");
    }
}
