//! The AWS client layer (SPEC §10): the one place that loads an `SdkConfig` and builds clients.
//! Region comes from the site config, `--profile` or the standard credential chain supplies
//! credentials, `AWS_ENDPOINT_URL` (the SDK's own setting) points every client at an emulator,
//! and then S3 uses path-style addressing. CloudFormation gets more retry attempts and the SDK's
//! adaptive (rate-limited) mode because fleets are throttled often. Local actions never come here.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};

use crate::exit::Refusal;

/// The tag every stack and bucket of the tool carries, valued with the deployment name. A stack or
/// bucket without it (or with another deployment's value) is not ours: never change or delete it.
pub const DEPLOYMENT_TAG: &str = "s3-provisioner:deployment";

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
}

/// Retry attempts for CloudFormation. Its retry mode is the SDK's adaptive mode: standard retries
/// plus a client-side rate limiter that slows down after throttling. The SDK keeps that limiter
/// per retry partition for the whole process, so every config of a fleet run (SPEC §11) shares
/// one limiter on CloudFormation calls.
const CFN_MAX_ATTEMPTS: u32 = 8;
/// Retry attempts for the other services.
const DEFAULT_MAX_ATTEMPTS: u32 = 5;

impl AwsClients {
    /// Load the shared SDK config (credential chain, profile, endpoint override) and build the
    /// clients. Does no network I/O by itself; credentials are resolved on first use.
    pub async fn connect(options: &AwsOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(options.region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(DEFAULT_MAX_ATTEMPTS));
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        Self::from_sdk_config(&loader.load().await)
    }

    /// Build the clients from an existing `SdkConfig` (tests pass one pointing at moto).
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        let endpoint_overridden = sdk.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(endpoint_overridden)
            .build();
        let cfn_config = aws_sdk_cloudformation::config::Builder::from(sdk)
            .retry_config(RetryConfig::adaptive().with_max_attempts(CFN_MAX_ATTEMPTS))
            .build();
        AwsClients {
            cfn: aws_sdk_cloudformation::Client::from_conf(cfn_config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            region: sdk
                .region()
                .map_or_else(String::new, |region| region.as_ref().to_owned()),
        }
    }

    /// STS GetCallerIdentity: refuse (exit 4) when the credentials belong to another account
    /// than the config's `client.account_id`. Returns the caller ARN for the log.
    pub async fn verify_account(&self, expected_account: &str) -> anyhow::Result<String> {
        use anyhow::Context;
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
        Ok(identity.arn().unwrap_or_default().to_owned())
    }
}

pub mod cfn;
pub mod drift;
pub mod empty;
pub mod error;
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
    fn cloudformation_retries_more_and_adapts_its_rate() {
        let clients = AwsClients::from_sdk_config(&sdk_config());
        let cfn = clients.cfn.config().retry_config().unwrap();
        assert_eq!(cfn.mode(), RetryMode::Adaptive);
        assert_eq!(cfn.max_attempts(), CFN_MAX_ATTEMPTS);
        let s3 = clients.s3.config().retry_config().unwrap();
        assert_eq!(s3.mode(), RetryMode::Standard);
        assert_eq!(s3.max_attempts(), DEFAULT_MAX_ATTEMPTS);
        assert_eq!(clients.region, "us-west-1");
    }
}
