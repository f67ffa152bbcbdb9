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
            loader = loader.profile_name(profile);
        }
        Ok(Self::from_sdk_config(&loader.load().await))
    }

    /// Build the clients from an existing `SdkConfig` (tests pass one pointing at moto), with
    /// [`TIMEOUTS`] and a fresh [`Journal`].
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        Self::from_sdk_config_with(sdk, TIMEOUTS)
    }

    /// [`AwsClients::from_sdk_config`] with other request time limits (tests of stalls).
    pub fn from_sdk_config_with(sdk: &SdkConfig, timeouts: Timeouts) -> Self {
        let journal = Journal::default();
        let interceptor = || JournalInterceptor::new(journal.clone());
        let endpoint_overridden = sdk.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(endpoint_overridden)
            .timeout_config(timeouts.config())
            .interceptor(interceptor())
            .build();
        let cfn_config = aws_sdk_cloudformation::config::Builder::from(sdk)
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
