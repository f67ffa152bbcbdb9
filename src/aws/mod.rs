//! The AWS client layer: the one place that loads an `SdkConfig` and builds clients.
//! Region comes from the site config, `--profile` or the standard credential chain supplies
//! credentials, `AWS_ENDPOINT_URL` (the SDK's own setting) points every client at an emulator,
//! and then S3 uses path-style addressing. CloudFormation gets more retry attempts with a short
//! backoff because fleets are throttled often. Local actions never come here.
//!
//! Every request is bounded ([`TIMEOUTS`]: connect, first byte, each attempt, all attempts), so a
//! stalled endpoint can never hang a run, and every client records its requests in the run's
//! [`Journal`] so a stop can name the request that did not answer.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{Region, SdkConfig};

use crate::exit::{Refusal, UsageError};

pub use journal::{Journal, JournalInterceptor};

/// The tag the ownership rule reads, re-exported for callers that build AWS answers (tests).
pub use crate::ownership::DEPLOYMENT_TAG;

/// Connection settings taken from the site config and the command line.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// Region of the site config.
    pub region: String,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--role-name`: work as this role of the config's account (see [`role`]).
    pub role: Option<AssumedRole>,
    /// The account's shared CloudFormation budget (`None`: a budget of its own).
    pub cfn_limiter: Option<cfn::limit::CallLimiter>,
    /// Where requests go instead of the network (the fleet simulation).
    pub http_client: Option<aws_smithy_runtime_api::client::http::SharedHttpClient>,
}

/// The role a run works as: the spec from the command line, the config's account and the
/// deployment (for the role session's name).
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub spec: role::RoleSpec,
    pub account_id: String,
    pub deployment: String,
}

/// Every client the tool uses, built once from one `SdkConfig` and passed by reference.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// The region the clients talk to.
    pub region: String,
    /// What this run is doing in AWS (every client records its requests here).
    pub journal: Journal,
    /// The account's CloudFormation budget, shared by the run's sites (its connector paces every
    /// call; stack waits learn from it how long the account's operations take).
    pub cfn_limiter: cfn::limit::CallLimiter,
}

/// Retries for CloudFormation, whose APIs throttle fleets often: more attempts than the other
/// services, in the SDK's standard mode with a short first backoff (full jitter, doubling from
/// [`CFN_FIRST_BACKOFF`] to [`CFN_MAX_BACKOFF`]), so a throttled call costs a fraction of a second
/// rather than the ~20 s the adaptive mode's client-side rate limiter imposed on a CLI's low
/// request rate after one throttle. The standard mode's retry quota is shared process-wide per
/// retry partition, so a fleet that keeps being throttled stops retrying instead of storming.
const CFN_MAX_ATTEMPTS: u32 = 8;
const CFN_FIRST_BACKOFF: Duration = Duration::from_millis(250);
const CFN_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Retry attempts for the other services.
const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Bounds of every request. Connecting takes milliseconds and an AWS answer starts within a
/// second or two (a DeleteObjects of 1,000 keys within a few), so these only ever end stalls:
/// a dead or black-holed endpoint fails after one connect timeout per attempt, a server that
/// accepts and never answers after the first-byte timeout, and no call with all its retries
/// outlives the operation timeout (3 min). The action's own deadline (`--timeout`) bounds everything
/// else.
pub const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    first_byte: Duration::from_secs(30),
    attempt: Duration::from_mins(1),
    operation: OPERATION_TIMEOUT,
};
const OPERATION_TIMEOUT: Duration = Duration::from_mins(3);

/// Request time limits (see [`TIMEOUTS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub attempt: Duration,
    pub operation: Duration,
}

impl Timeouts {
    fn config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.first_byte)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// The CloudFormation retry schedule (see [`CFN_MAX_ATTEMPTS`]).
fn cfn_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(CFN_MAX_ATTEMPTS)
        .with_initial_backoff(CFN_FIRST_BACKOFF)
        .with_max_backoff(CFN_MAX_BACKOFF)
}

impl AwsClients {
    /// Load the shared SDK config (credential chain, profile, endpoint override) and build the
    /// clients. Does no network I/O by itself; credentials are resolved on first use. A named
    /// profile (`--profile`, or `AWS_PROFILE`) that no AWS config file defines is a usage error
    /// here, before the credential chain would quietly fall through to other sources.
    pub async fn connect(options: &AwsOptions) -> anyhow::Result<Self> {
        let profile = options.profile.clone().or_else(|| {
            std::env::var("AWS_PROFILE")
                .ok()
                .filter(|name| !name.is_empty())
        });
        if let Some(name) = &profile {
            check_profile_exists(name, options.profile.is_some()).await?;
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(options.region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(DEFAULT_MAX_ATTEMPTS))
            .timeout_config(TIMEOUTS.config());
        if let Some(profile) = &options.profile {
            // An explicit --profile picks the credentials too, as `aws --profile` does: the
            // default chain would take AWS_ACCESS_KEY_ID from the environment first and quietly
            // run with another identity than the one asked for.
            loader = loader.profile_name(profile).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(profile)
                    .build(),
            );
        }
        if let Some(client) = &options.http_client {
            loader = loader.http_client(client.clone());
        }
        let base = loader.load().await;
        let limiter = options.cfn_limiter.clone().unwrap_or_default();
        let Some(assumed) = &options.role else {
            return Ok(Self::build(&base, TIMEOUTS, limiter));
        };
        let role = assumed.spec.cache.account_role(
            &assumed.spec,
            &assumed.account_id,
            &assumed.deployment,
            &base,
        );
        // Asked here (once per account; later runs of the account get the kept credentials) so
        // that a role that cannot be assumed fails with its own message, before any client runs.
        role.credentials().await?;
        let sdk = base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    role::RoleCredentials(role),
                ),
            )
            .build();
        Ok(Self::build(&sdk, TIMEOUTS, limiter))
    }

    /// Build the clients from an existing `SdkConfig` (tests pass one pointing at moto), with
    /// [`TIMEOUTS`] and a fresh [`Journal`].
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        Self::from_sdk_config_with(sdk, TIMEOUTS)
    }

    /// [`AwsClients::from_sdk_config`] with other request time limits (tests of stalls).
    pub fn from_sdk_config_with(sdk: &SdkConfig, timeouts: Timeouts) -> Self {
        Self::build(sdk, timeouts, cfn::limit::CallLimiter::default())
    }

    fn build(sdk: &SdkConfig, timeouts: Timeouts, cfn_limiter: cfn::limit::CallLimiter) -> Self {
        let journal = Journal::default();
        // Every CloudFormation request attempt waits for its account's budget first.
        let cfn_http = cfn::limit::limited(
            sdk.http_client().unwrap_or_else(default_http_client),
            cfn_limiter.clone(),
        );
        let interceptor = || JournalInterceptor::new(journal.clone());
        let endpoint_overridden = sdk.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(endpoint_overridden)
            .timeout_config(timeouts.config())
            .interceptor(interceptor())
            .build();
        let cfn_config = aws_sdk_cloudformation::config::Builder::from(sdk)
            .http_client(cfn_http)
            .retry_config(cfn_retries())
            .timeout_config(timeouts.config())
            .interceptor(interceptor())
            .build();
        let sts_config = aws_sdk_sts::config::Builder::from(sdk)
            .timeout_config(timeouts.config())
            .interceptor(interceptor())
            .build();
        let ssm_config = aws_sdk_ssm::config::Builder::from(sdk)
            .timeout_config(timeouts.config())
            .interceptor(interceptor())
            .build();
        AwsClients {
            cfn: aws_sdk_cloudformation::Client::from_conf(cfn_config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::from_conf(sts_config),
            ssm: aws_sdk_ssm::Client::from_conf(ssm_config),
            region: sdk
                .region()
                .map_or_else(String::new, |region| region.as_ref().to_owned()),
            journal,
            cfn_limiter,
        }
    }

    /// STS GetCallerIdentity: refuse (exit 4) when the credentials belong to another account
    /// than the config's `client.account_id`. Returns the caller ARN for the log.
    pub async fn verify_account(&self, expected_account: &str) -> anyhow::Result<String> {
        use anyhow::Context;
        self.journal
            .step("checking which AWS account the credentials belong to");
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(error::describe)
            .context(
                "checking which AWS account the credentials belong to (sts:GetCallerIdentity); check --profile, AWS_PROFILE or the AWS_* credential variables",
            )?;
        let actual = identity.account().context(
            "sts:GetCallerIdentity returned no account id, so the account cannot be checked; nothing was changed",
        )?;
        if actual != expected_account {
            return Err(Refusal(format!(
                "the AWS credentials belong to account {actual}, but the config is for account {expected_account}; nothing was changed. Use credentials (or --profile) for account {expected_account}, or fix client.account_id"
            ))
            .into());
        }
        let arn = identity.arn().unwrap_or_default().to_owned();
        self.journal.identity_verified(actual, &arn);
        Ok(arn)
    }
}

/// The SDK's own default HTTPS client (what a client without one builds for itself).
fn default_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin as _;
    aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(BehaviorVersion::latest())
        .and_then(|plugin| {
            plugin
                .runtime_components(&RuntimeComponentsBuilder::new("s3-provisioner"))
                .http_client()
        })
        .expect("the default HTTPS client is compiled in (default-https-client)")
}

/// Refuse a profile name that no AWS config or credentials file defines (exit 2), naming the
/// profiles that exist. Without this, the credential chain skips the missing profile and ends
/// with an unrelated error from its last source (instance metadata).
async fn check_profile_exists(name: &str, from_flag: bool) -> anyhow::Result<()> {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    let source = if from_flag {
        format!("--profile {name}")
    } else {
        format!("AWS_PROFILE={name}")
    };
    let profiles = match aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &EnvConfigFiles::default(),
        None,
    )
    .await
    {
        Ok(profiles) => profiles,
        Err(error) => {
            return Err(UsageError(format!(
                    "{source}: the AWS config files cannot be read: {error}. Fix ~/.aws/config (or AWS_CONFIG_FILE) and ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE)"
                ))
                .into());
        }
    };
    if profiles.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = profiles.profiles().collect();
    known.sort_unstable();
    let known = if known.is_empty() {
        "none are defined (in Docker, mount them with -v ~/.aws:/home/s3user/.aws:ro)".to_owned()
    } else {
        format!("defined: {}", known.join(", "))
    };
    Err(UsageError(format!(
        "{source}: no AWS profile named `{name}` in ~/.aws/config or ~/.aws/credentials ({known}); nothing was changed. Pass an existing profile, or create it with `aws configure --profile {name}`"
    ))
    .into())
}

pub mod cfn;
pub mod drift;
pub mod empty;
pub mod error;
pub mod journal;
pub mod live;
#[cfg(test)]
pub(crate) mod mocks;
pub mod role;
pub mod s3;

#[cfg(test)]
mod tests {
    use aws_config::retry::RetryMode;

    use super::*;

    fn sdk_config() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-west-1"))
            .retry_config(RetryConfig::standard().with_max_attempts(DEFAULT_MAX_ATTEMPTS))
            .build()
    }

    #[test]
    fn cloudformation_retries_more_and_backs_off_briefly() {
        let clients = AwsClients::from_sdk_config(&sdk_config());
        let cfn = clients.cfn.config().retry_config().unwrap();
        assert_eq!(cfn.mode(), RetryMode::Standard);
        assert_eq!(cfn.max_attempts(), CFN_MAX_ATTEMPTS);
        assert_eq!(cfn.initial_backoff(), CFN_FIRST_BACKOFF);
        assert_eq!(cfn.max_backoff(), CFN_MAX_BACKOFF);
        let s3 = clients.s3.config().retry_config().unwrap();
        assert_eq!(s3.mode(), RetryMode::Standard);
        assert_eq!(s3.max_attempts(), DEFAULT_MAX_ATTEMPTS);
        assert_eq!(clients.region, "us-west-1");
    }
}
