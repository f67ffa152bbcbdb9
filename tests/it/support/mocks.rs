//! The tool's AWS clients answering from aws-smithy-mocks rules, and the one shared-bucket
//! deployment the mock tests are about (site `b001` in `us-west-1`), with AWS-shaped answers
//! about its stack.
//!
//! ```ignore
//! use crate::support::mocks::{self, STACK};
//! let describe = mock!(Cfn::describe_stacks).then_output(|| mocks::stacks(mocks::stack(ID, status)));
//! let aws = mocks::clients(mocks::cfn(&[&describe], None), mocks::s3(&[], None));
//! ```
//!
//! A client given no rule answers nothing: a test that expects no S3 (or STS, SSM) call passes
//! `&[]` and fails on any such call.

use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::types::{Output as StackOutput, Stack, Tag};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client};
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use s3_provisioner::aws::{AwsClients, DEPLOYMENT_TAG, Journal};
use s3_provisioner::cli::OutputFormat;
use s3_provisioner::naming::{Deployment, Pattern};
use s3_provisioner::ops::engine::DeployRequest;
use s3_provisioner::output::{Captured, Output, OutputSettings};

pub type Cfn = aws_sdk_cloudformation::Client;
pub type S3 = aws_sdk_s3::Client;

pub const REGION: &str = "us-west-1";
pub const DEPLOYMENT: &str = "edge-prod-b001-us-west-1-s3";
pub const STACK: &str = "edge-prod-b001-us-west-1-s3-stack";
pub const BUCKET: &str = "edge-prod-b001-us-west-1-s3";
pub const CHANGE_SET_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:changeSet/s3-provisioner-1/abc";
/// A template whose only resource is the deployment's bucket.
pub const BUCKET_TEMPLATE: &str = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: edge-prod-b001-us-west-1-s3\n";
/// When every stack of the mock tests was created (2026-01-01).
pub const CREATED: i64 = 1_767_225_600;

/// An interceptor answering each request from the first of `rules` that matches it.
pub fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |interceptor, rule| interceptor.with_rule(rule),
    )
}

fn credentials() -> aws_sdk_sts::config::Credentials {
    aws_sdk_sts::config::Credentials::new("testing", "testing", None, None, "mock")
}

/// Standard retries, 4 attempts, with this back-off (on paused tokio time a real back-off costs
/// the test nothing; a zero one retries at once).
pub fn retries(initial_backoff: Duration, max_backoff: Duration) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(initial_backoff)
        .with_max_backoff(max_backoff)
}

/// A CloudFormation client in [`REGION`] answering from `rules`, with `retry` (`None`: the SDK's
/// default).
pub fn cfn(rules: &[&Rule], retry: Option<RetryConfig>) -> Cfn {
    let mut config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(credentials())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(rules));
    config.set_retry_config(retry);
    Cfn::from_conf(config.build())
}

/// An S3 client in [`REGION`] answering from `rules`, with `retry` (`None`: the SDK's default;
/// [`RetryConfig::disabled`] where the tool's own retry is under test).
pub fn s3(rules: &[&Rule], retry: Option<RetryConfig>) -> S3 {
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(credentials())
        .http_client(create_mock_http_client())
        .interceptor(interceptor(rules));
    config.set_retry_config(retry);
    S3::from_conf(config.build())
}

/// The tool's clients: `cfn` and `s3`, and STS and SSM clients that answer nothing.
pub fn clients(cfn: Cfn, s3: S3) -> AwsClients {
    let region = aws_config::Region::new(REGION);
    let behavior = aws_config::BehaviorVersion::latest();
    let sts = aws_sdk_sts::Config::builder()
        .behavior_version(behavior)
        .region(region.clone())
        .credentials_provider(credentials())
        .http_client(create_mock_http_client())
        .build();
    let ssm = aws_sdk_ssm::Config::builder()
        .behavior_version(behavior)
        .region(region)
        .credentials_provider(credentials())
        .http_client(create_mock_http_client())
        .build();
    AwsClients {
        cfn,
        s3,
        sts: aws_sdk_sts::Client::from_conf(sts),
        ssm: aws_sdk_ssm::Client::from_conf(ssm),
        region: REGION.to_owned(),
        journal: Journal::default(),
        cfn_limiter: s3_provisioner::aws::cfn::limit::CallLimiter::default(),
    }
}

/// Text output without colour, captured for the test to read.
pub fn output() -> (Output, Captured) {
    Output::captured(OutputSettings {
        format: OutputFormat::Text,
        no_color: true,
        quiet: false,
        verbose: 0,
    })
}

/// The shared-bucket deployment [`DEPLOYMENT`] of the master solution.
pub fn deployment() -> Deployment {
    Deployment {
        name: DEPLOYMENT.to_owned(),
        pattern: Pattern::Shared,
        solution: "master-solution".to_owned(),
        stack_name: STACK.to_owned(),
        bucket_name: BUCKET.to_owned(),
        test_id: None,
    }
}

/// A request to deploy [`deployment`] with `template_body`, tagged as the tool tags it.
pub fn request(
    template_body: &'static str,
    force: bool,
    revert_drift: bool,
) -> DeployRequest<'static> {
    // The request borrows its deployment for as long as the engine runs; a test leaks one small
    // value rather than threading a lifetime through every helper.
    let deployment: &'static Deployment = Box::leak(Box::new(deployment()));
    DeployRequest {
        deployment,
        template_body,
        tags: [(DEPLOYMENT_TAG.to_owned(), DEPLOYMENT.to_owned())].into(),
        force,
        revert_drift,
    }
}

/// The deployment's stack `id` in `status`: owned (deployment tag) and with its `BucketName`
/// output, as the tool leaves it.
pub fn stack(id: &str, status: aws_sdk_cloudformation::types::StackStatus) -> Stack {
    Stack::builder()
        .stack_id(id)
        .stack_name(STACK)
        .stack_status(status)
        .creation_time(DateTime::from_secs(CREATED))
        .tags(Tag::builder().key(DEPLOYMENT_TAG).value(DEPLOYMENT).build())
        .outputs(
            StackOutput::builder()
                .output_key("BucketName")
                .output_value(BUCKET)
                .build(),
        )
        .build()
}

/// DescribeStacks answering `stack`.
pub fn stacks(stack: Stack) -> DescribeStacksOutput {
    DescribeStacksOutput::builder().stacks(stack).build()
}

/// DescribeStacks' answer when [`STACK`] does not exist.
pub fn missing_stack() -> DescribeStacksError {
    DescribeStacksError::generic(
        ErrorMetadata::builder()
            .code("ValidationError")
            .message(format!("Stack with id {STACK} does not exist"))
            .build(),
    )
}

/// A stack event of `stack_id`; `logical` = [`STACK`] makes it a stack-level event, any other a
/// bucket's.
pub fn event(
    id: &str,
    stack_id: &str,
    logical: &str,
    status: aws_sdk_cloudformation::types::ResourceStatus,
    reason: Option<&str>,
) -> aws_sdk_cloudformation::types::StackEvent {
    let resource_type = if logical == STACK {
        "AWS::CloudFormation::Stack"
    } else {
        "AWS::S3::Bucket"
    };
    aws_sdk_cloudformation::types::StackEvent::builder()
        .event_id(id)
        .stack_id(stack_id)
        .stack_name(STACK)
        .logical_resource_id(logical)
        .resource_type(resource_type)
        .resource_status(status)
        .set_resource_status_reason(reason.map(str::to_owned))
        .timestamp(DateTime::from_secs(CREATED))
        .build()
}

/// DescribeStackEvents answering `newest_first` (CloudFormation's order).
pub fn events(
    newest_first: Vec<aws_sdk_cloudformation::types::StackEvent>,
) -> aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput {
    aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput::builder()
        .set_stack_events(Some(newest_first))
        .build()
}

/// CreateChangeSet's answer: the change set [`CHANGE_SET_ID`] of `stack_id`.
pub fn created_change_set(
    stack_id: &str,
) -> aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput {
    aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput::builder()
        .id(CHANGE_SET_ID)
        .stack_id(stack_id)
        .build()
}

/// A change set of `stack_id` that CloudFormation computed as empty (the template changes
/// nothing): `FAILED`, not executable, with CloudFormation's reason.
pub fn empty_change_set(
    stack_id: &str,
) -> aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput {
    use aws_sdk_cloudformation::types::{ChangeSetStatus, ExecutionStatus};
    aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput::builder()
        .change_set_id(CHANGE_SET_ID)
        .stack_id(stack_id)
        .stack_name(STACK)
        .status(ChangeSetStatus::Failed)
        .execution_status(ExecutionStatus::Unavailable)
        .status_reason(
            "The submitted information didn't contain changes. Submit different information to create a change set.",
        )
        .build()
}

/// A change set of `stack_id`, ready to execute, that applies `action` to the bucket.
pub fn ready_change_set(
    stack_id: &str,
    action: aws_sdk_cloudformation::types::ChangeAction,
) -> aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput {
    use aws_sdk_cloudformation::types::{Change, ChangeSetStatus, ChangeType, ResourceChange};
    aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput::builder()
        .change_set_id(CHANGE_SET_ID)
        .stack_id(stack_id)
        .stack_name(STACK)
        .status(ChangeSetStatus::CreateComplete)
        .changes(
            Change::builder()
                .r#type(ChangeType::Resource)
                .resource_change(
                    ResourceChange::builder()
                        .action(action)
                        .logical_resource_id("Bucket")
                        .resource_type("AWS::S3::Bucket")
                        .build(),
                )
                .build(),
        )
        .build()
}

/// The answers for deleting the stack `old_id` (it ends DELETE_COMPLETE) and creating
/// [`STACK`] anew as `new_id` through a CREATE change set, while the bucket name is free
/// (HeadBucket 404): the path of a stack the tool deletes and creates again. The test adds the
/// by-name DescribeStacks and the old stack's events, which say what state it was in.
pub struct Recreation {
    pub old_by_id: Rule,
    pub new_by_id: Rule,
    pub new_events: Rule,
    pub delete_stack: Rule,
    pub create_change_set: Rule,
    pub describe_change_set: Rule,
    pub execute: Rule,
    pub head_bucket: Rule,
}

impl Recreation {
    pub fn new(old_id: &'static str, new_id: &'static str) -> Recreation {
        use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
        use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
        use aws_sdk_cloudformation::types::{
            ChangeAction, ChangeSetType, ResourceStatus, StackStatus,
        };
        use aws_smithy_mocks::mock;

        let old_by_id = mock!(Cfn::describe_stacks)
            .match_requests(move |r| r.stack_name() == Some(old_id))
            .then_output(move || stacks(stack(old_id, StackStatus::DeleteComplete)));
        let new_by_id = mock!(Cfn::describe_stacks)
            .match_requests(move |r| r.stack_name() == Some(new_id))
            .then_output(move || stacks(stack(new_id, StackStatus::CreateComplete)));
        let review = move || {
            event(
                "n1",
                new_id,
                STACK,
                ResourceStatus::from("REVIEW_IN_PROGRESS"),
                None,
            )
        };
        let new_events = mock!(Cfn::describe_stack_events)
            .match_requests(move |r| r.stack_name() == Some(new_id))
            .sequence()
            .output(move || events(vec![review()]))
            .output(move || {
                events(vec![
                    event("n4", new_id, STACK, ResourceStatus::CreateComplete, None),
                    event("n3", new_id, "Bucket", ResourceStatus::CreateComplete, None),
                    event("n2", new_id, STACK, ResourceStatus::CreateInProgress, None),
                    review(),
                ])
            })
            .repeatedly()
            .build();
        let delete_stack =
            mock!(Cfn::delete_stack).then_output(|| DeleteStackOutput::builder().build());
        let create_change_set = mock!(Cfn::create_change_set)
            .match_requests(|r| r.change_set_type() == Some(&ChangeSetType::Create))
            .then_output(move || created_change_set(new_id));
        let describe_change_set = mock!(Cfn::describe_change_set)
            .then_output(move || ready_change_set(new_id, ChangeAction::Add));
        let execute = mock!(Cfn::execute_change_set)
            .then_output(|| ExecuteChangeSetOutput::builder().build());
        let head_bucket = mock!(S3::head_bucket)
            .sequence()
            .http_status(404, None)
            .repeatedly()
            .build();
        Recreation {
            old_by_id,
            new_by_id,
            new_events,
            delete_stack,
            create_change_set,
            describe_change_set,
            execute,
            head_bucket,
        }
    }

    /// Its CloudFormation rules, for [`cfn`] with the test's own.
    pub fn cfn_rules(&self) -> [&Rule; 7] {
        [
            &self.old_by_id,
            &self.new_by_id,
            &self.new_events,
            &self.delete_stack,
            &self.create_change_set,
            &self.describe_change_set,
            &self.execute,
        ]
    }
}
