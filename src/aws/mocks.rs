//! Clients that answer from aws-smithy-mocks rules instead of the network, for the unit tests of
//! the code above `aws` (what no emulator does: states, errors and timings AWS produces and moto
//! does not). Integration tests have their own builders in `tests/`.

use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client};

use super::{AwsClients, Journal};

/// The region every mock client is in.
pub const REGION: &str = "us-west-1";

/// An interceptor answering from `rules`, in any order, each as often as it says.
pub fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |interceptor, rule| interceptor.with_rule(rule),
    )
}

/// A client of SDK crate `$sdk` in [`REGION`] with test credentials, answering from `$rules`.
macro_rules! mock_client {
    ($sdk:ident, $rules:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(REGION))
                .credentials_provider(aws_sdk_sts::config::Credentials::new(
                    "testing", "testing", None, None, "mock",
                ))
                .http_client(create_mock_http_client())
                .interceptor(interceptor($rules))
                .build(),
        )
    };
}

/// Clients whose CloudFormation, S3 and SSM requests are answered by the given rules (STS by
/// none: the account check is not what these tests are about).
pub fn clients(cfn: &[&Rule], s3: &[&Rule], ssm: &[&Rule]) -> AwsClients {
    AwsClients {
        cfn: mock_client!(aws_sdk_cloudformation, cfn),
        s3: mock_client!(aws_sdk_s3, s3),
        sts: sts(&[]),
        ssm: mock_client!(aws_sdk_ssm, ssm),
        region: REGION.to_owned(),
        journal: Journal::default(),
        cfn_limiter: crate::aws::cfn::limit::CallLimiter::default(),
    }
}

/// An STS client answering from `rules`.
pub fn sts(rules: &[&Rule]) -> aws_sdk_sts::Client {
    mock_client!(aws_sdk_sts, rules)
}
