//! S3's eventual consistency where it reaches the tool, with aws-smithy-mocks fed answers shaped
//! like AWS's: re-creating a bucket name right after it was deleted fails with 409
//! `OperationAborted` ("A conflicting conditional operation is currently in progress against this
//! resource. Please try again."), in CloudFormation as the bucket's CREATE_FAILED event (the new
//! stack rolls back), and in a direct DeleteBucket. No sleeping: `Waits::immediate`, and paused
//! tokio time for the retries.

use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::types::{
    ChangeAction, ResourceStatus, Stack, StackEvent, StackStatus, Tag,
};
use aws_sdk_s3::operation::delete_bucket::DeleteBucketOutput;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use s3_provisioner::aws::empty::{delete_bucket, delete_bucket_with};
use s3_provisioner::aws::error::Backoff;
use s3_provisioner::aws::{AwsClients, DEPLOYMENT_TAG};
use s3_provisioner::cli::OutputFormat;
use s3_provisioner::exit::{ExitStatus, status_for_error};
use s3_provisioner::naming::{Deployment, Pattern};
use s3_provisioner::ops::engine::{self, DeployRequest, Waits};
use s3_provisioner::output::{Output, OutputSettings};

use aws_smithy_types::retry::RetryConfig;

use crate::support::mocks::{self, BUCKET, Cfn, DEPLOYMENT, S3, STACK};

const STACK_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/9a8b";
/// S3's answer, as its REST API sends it.
const OPERATION_ABORTED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>OperationAborted</Code><Message>A conflicting conditional operation is currently in progress against this resource. Please try again.</Message><RequestId>4K5C7Z0X2QW9M1B3</RequestId><HostId>b2FzZGZhc2RmYXNkZg==</HostId></Error>";
/// The same answer as CloudFormation's resource handler reports it in the bucket's event.
const EVENT_REASON: &str = "Resource handler returned message: \"A conflicting conditional operation is currently in progress against this resource. Please try again. (Service: S3, Status Code: 409, Request ID: 4K5C7Z0X2QW9M1B3, Extended Request ID: b2FzZGZhc2RmYXNkZg==)\" (RequestToken: 5d2c1e0f-7a3b-4c9d-8e1f-0a2b3c4d5e6f, HandlerErrorCode: GeneralServiceException)";

/// An S3 client answering from `rules`, with the SDK's own retries off: the tool's retry is under
/// test.
fn s3(rules: &[&Rule]) -> S3 {
    mocks::s3(rules, Some(RetryConfig::disabled()))
}

fn clients(cfn_rules: &[&Rule], s3_rules: &[&Rule]) -> AwsClients {
    mocks::clients(mocks::cfn(cfn_rules, None), s3(s3_rules))
}

fn event(id: &str, logical: &str, status: ResourceStatus, reason: Option<&str>) -> StackEvent {
    let (kind, physical) = if logical == STACK {
        ("AWS::CloudFormation::Stack", STACK_ID)
    } else {
        ("AWS::S3::Bucket", BUCKET)
    };
    StackEvent::builder()
        .event_id(id)
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .logical_resource_id(logical)
        .physical_resource_id(physical)
        .resource_type(kind)
        .resource_status(status)
        .set_resource_status_reason(reason.map(str::to_owned))
        .timestamp(DateTime::from_secs(1_767_225_600))
        .build()
}

#[tokio::test]
async fn a_bucket_name_still_settling_after_its_deletion_says_when_and_how_to_resume() {
    let by_name = mock!(Cfn::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_error(|| {
            DescribeStacksError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message(format!("Stack with id {STACK} does not exist"))
                    .build(),
            )
        });
    let by_id = mock!(Cfn::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK_ID))
        .then_output(|| {
            DescribeStacksOutput::builder()
                .stacks(
                    Stack::builder()
                        .stack_id(STACK_ID)
                        .stack_name(STACK)
                        .stack_status(StackStatus::RollbackComplete)
                        .stack_status_reason("The following resource(s) failed to create: [Bucket]. Rollback requested by user.")
                        .creation_time(DateTime::from_secs(1_767_225_600))
                        .tags(Tag::builder().key(DEPLOYMENT_TAG).value(DEPLOYMENT).build())
                        .build(),
                )
                .build()
        });
    let events = mock!(Cfn::describe_stack_events)
        .sequence()
        .output(|| {
            DescribeStackEventsOutput::builder()
                .stack_events(event("e1", STACK, ResourceStatus::from("REVIEW_IN_PROGRESS"), Some("User Initiated")))
                .build()
        })
        .output(|| {
            // Newest first, per resource, as CloudFormation lists them.
            DescribeStackEventsOutput::builder()
                .stack_events(event("e7", STACK, ResourceStatus::RollbackComplete, None))
                .stack_events(event("e6", "Bucket", ResourceStatus::DeleteComplete, None))
                .stack_events(event("e5", STACK, ResourceStatus::RollbackInProgress, Some("The following resource(s) failed to create: [Bucket]. Rollback requested by user.")))
                .stack_events(event("e4", "Bucket", ResourceStatus::CreateFailed, Some(EVENT_REASON)))
                .stack_events(event("e3", "Bucket", ResourceStatus::CreateInProgress, None))
                .stack_events(event("e2", STACK, ResourceStatus::CreateInProgress, Some("User Initiated")))
                .stack_events(event("e1", STACK, ResourceStatus::from("REVIEW_IN_PROGRESS"), Some("User Initiated")))
                .build()
        })
        .repeatedly()
        .build();
    let create = mock!(Cfn::create_change_set).then_output(|| mocks::created_change_set(STACK_ID));
    let describe_change_set = mock!(Cfn::describe_change_set)
        .then_output(|| mocks::ready_change_set(STACK_ID, ChangeAction::Add));
    let execute =
        mock!(Cfn::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build());
    // The name looks free: the old bucket's deletion has gone through HeadBucket already.
    let head = mock!(S3::head_bucket)
        .sequence()
        .http_status(404, None)
        .repeatedly()
        .build();
    let aws = clients(
        &[
            &by_name,
            &by_id,
            &events,
            &create,
            &describe_change_set,
            &execute,
        ],
        &[&head],
    );
    let deployment = Deployment {
        name: DEPLOYMENT.to_owned(),
        pattern: Pattern::Shared,
        solution: "master-solution".to_owned(),
        stack_name: STACK.to_owned(),
        bucket_name: BUCKET.to_owned(),
        test_id: None,
    };
    let request = DeployRequest {
        deployment: &deployment,
        template_body: "Resources: {}\n",
        tags: [(DEPLOYMENT_TAG.to_owned(), DEPLOYMENT.to_owned())].into(),
        force: true,
        revert_drift: false,
    };
    let (mut out, captured) = Output::captured(OutputSettings {
        format: OutputFormat::Text,
        no_color: true,
        quiet: false,
        verbose: 0,
    });
    let error = engine::deploy(
        &mut out,
        &aws,
        &request,
        Waits::immediate(Duration::from_secs(30)),
    )
    .await
    .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Failure);
    assert_eq!(execute.num_calls(), 1);
    insta::assert_snapshot!(format!("{error:#}"), @"deploying stack edge-prod-b001-us-west-1-s3-stack failed: it is now ROLLBACK_COMPLETE, because S3 would not create bucket edge-prod-b001-us-west-1-s3 yet (409 OperationAborted: a bucket of this name was deleted a short while ago and S3 is still finishing that). Nothing was created that holds data. The name becomes available again after a short while (usually minutes, rarely up to an hour): rerun the same command with --force then; the rolled-back stack is deleted and created again");
    let stderr = captured.stderr();
    assert!(
        stderr
            .contains("Bucket (AWS::S3::Bucket) CREATE_FAILED: Resource handler returned message"),
        "{stderr}"
    );
}

#[tokio::test(start_paused = true)]
async fn delete_bucket_retries_operation_aborted_until_s3_lets_go() {
    let busy_then_deleted = mock!(S3::delete_bucket)
        .sequence()
        .http_status(409, Some(OPERATION_ABORTED.to_owned()))
        .times(2)
        .output(|| DeleteBucketOutput::builder().build())
        .build();
    let client = s3(&[&busy_then_deleted]);
    let started = tokio::time::Instant::now();
    delete_bucket(&client, BUCKET).await.unwrap();
    assert_eq!(busy_then_deleted.num_calls(), 3);
    // Backoff::BULK: 0.2 s, then 0.4 s.
    assert_eq!(started.elapsed(), Duration::from_millis(600));
}

#[tokio::test(start_paused = true)]
async fn delete_bucket_that_stays_busy_says_what_happened_and_when_to_rerun() {
    let busy = mock!(S3::delete_bucket)
        .sequence()
        .http_status(409, Some(OPERATION_ABORTED.to_owned()))
        .repeatedly()
        .build();
    let client = s3(&[&busy]);
    let retry = Backoff {
        attempts: 3,
        ..Backoff::BULK
    };
    let error = delete_bucket_with(&client, BUCKET, retry)
        .await
        .unwrap_err();
    assert_eq!(busy.num_calls(), 3);
    insta::assert_snapshot!(format!("{error:#}"), @"deleting bucket edge-prod-b001-us-west-1-s3: S3 is still busy with another operation on it (409 OperationAborted, on each of 3 attempts), usually a deletion or creation of the same name that has not settled yet. It settles after a short while (minutes, rarely up to an hour): rerun the same command then: OperationAborted: A conflicting conditional operation is currently in progress against this resource. Please try again.");
}
