//! The deployment engine meeting a stack or bucket in states moto cannot produce, against clients
//! answering from aws-smithy-mocks with AWS's own shapes: a stack of ours left CREATE_FAILED
//! (deleted and created again, only with --force), a stack in ROLLBACK_FAILED (exit 1 with the
//! next step, nothing touched), and a bucket name that exists in another region (HeadBucket 301
//! PermanentRedirect with `x-amz-bucket-region`: refused, nothing created).

use std::time::Duration;

use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::types::{ResourceStatus, StackStatus};
use aws_smithy_mocks::{Rule, mock};
use s3_provisioner::aws::AwsClients;
use s3_provisioner::exit::{ExitStatus, status_for_error};
use s3_provisioner::ops::engine::{self, DeployRequest, StackAction, Waits};

use crate::support::mocks::{
    self, BUCKET, REGION, Recreation, STACK, event, events, missing_stack, output, stack, stacks,
};

const OLD_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/old";
const NEW_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/new";

/// The tool's clients, answering from `cfn_rules` and `s3_rules`, with standard retries without
/// back-off, so a throttled call is retried at once.
fn clients(cfn_rules: &[&Rule], s3_rules: &[&Rule]) -> AwsClients {
    let retries = || Some(mocks::retries(Duration::ZERO, Duration::ZERO));
    mocks::clients(
        mocks::cfn(cfn_rules, retries()),
        mocks::s3(s3_rules, retries()),
    )
}

fn request(force: bool) -> DeployRequest<'static> {
    mocks::request("Resources: {}\n", force, false)
}

fn waits() -> Waits {
    Waits::immediate(Duration::from_secs(30))
}

// --- Tests -------------------------------------------------------------------------------------

#[tokio::test]
async fn our_create_failed_stack_is_recreated_only_with_force() {
    let reason = "The following resource(s) failed to create: [Bucket]. ";
    let failed = || {
        let mut stack = stack(OLD_ID, StackStatus::CreateFailed);
        stack.stack_status_reason = Some(reason.to_owned());
        stack
    };
    let by_name = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_output(move || stacks(failed()));
    let recreation = Recreation::new(OLD_ID, NEW_ID);
    let old_events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .match_requests(|r| r.stack_name() == Some(OLD_ID))
        .sequence()
        .output(|| {
            events(vec![event(
                "o1",
                OLD_ID,
                STACK,
                ResourceStatus::CreateFailed,
                Some(reason),
            )])
        })
        .output(|| {
            events(vec![
                event("o3", OLD_ID, STACK, ResourceStatus::DeleteComplete, None),
                event("o2", OLD_ID, STACK, ResourceStatus::DeleteInProgress, None),
                event(
                    "o1",
                    OLD_ID,
                    STACK,
                    ResourceStatus::CreateFailed,
                    Some(reason),
                ),
            ])
        })
        .repeatedly()
        .build();
    let cfn_rules: Vec<&Rule> = [&by_name, &old_events]
        .into_iter()
        .chain(recreation.cfn_rules())
        .collect();
    let aws = clients(&cfn_rules, &[&recreation.head_bucket]);

    // Without --force (and no terminal to ask on): refused, nothing deleted or created.
    let (mut out, captured) = output();
    let error = engine::deploy(&mut out, &aws, &request(false), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Refused, "{error:#}");
    assert!(format!("{error:#}").contains("--force"), "{error:#}");
    assert!(
        captured.stderr().contains("is CREATE_FAILED"),
        "{}",
        captured.stderr()
    );
    assert_eq!(recreation.delete_stack.num_calls(), 0);
    assert_eq!(recreation.create_change_set.num_calls(), 0);

    let (mut out, captured) = output();
    let deployed = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap();
    assert_eq!(deployed.action, StackAction::Recreated);
    assert_eq!(deployed.status, "CREATE_COMPLETE");
    assert_eq!(deployed.stack_id, NEW_ID);
    assert_eq!(recreation.delete_stack.num_calls(), 1);
    assert_eq!(recreation.execute.num_calls(), 1);
    let stderr = captured.stderr();
    assert!(
        stderr.contains("is CREATE_FAILED (The following resource(s) failed to create: [Bucket].)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_rollback_failed_stack_is_exit_1_with_the_next_step_and_left_alone() {
    let by_name = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_output(|| {
        let mut stack = stack(OLD_ID, StackStatus::RollbackFailed);
        stack.stack_status_reason =
            Some("The following resource(s) failed to delete: [Bucket]. ".to_owned());
        stacks(stack)
    });
    let delete_stack = mock!(aws_sdk_cloudformation::Client::delete_stack)
        .then_output(|| DeleteStackOutput::builder().build());
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .then_output(|| mocks::created_change_set(OLD_ID));
    let aws = clients(&[&by_name, &delete_stack, &create_change_set], &[]);

    let (mut out, _) = output();
    let error = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Failure);
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("stack {STACK} is ROLLBACK_FAILED (The following resource(s) failed to delete: [Bucket].)")),
        "{message}"
    );
    assert!(message.contains("Next step:"), "{message}");
    assert!(
        message.contains(&format!(
            "aws cloudformation describe-stack-events --stack-name {STACK} --region {REGION}"
        )),
        "{message}"
    );
    assert_eq!(delete_stack.num_calls(), 0, "even --force never deletes it");
    assert_eq!(create_change_set.num_calls(), 0);
}

#[tokio::test]
async fn a_bucket_name_in_another_region_is_refused_naming_that_region() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_error(missing_stack);
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .then_output(|| CreateChangeSetOutput::builder().build());
    // S3's answer to HeadBucket in the wrong region: 301 with the bucket's region in a header
    // and no body (a HEAD response has none).
    let head_bucket = mock!(aws_sdk_s3::Client::head_bucket).then_http_response(|| {
        let mut response = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(301).unwrap(),
            aws_smithy_types::body::SdkBody::empty(),
        );
        response
            .headers_mut()
            .insert("x-amz-bucket-region", "eu-west-1");
        response
            .headers_mut()
            .insert("x-amz-request-id", "0A1B2C3D4E5F6789");
        response
            .headers_mut()
            .insert("content-type", "application/xml");
        response
    });
    let aws = clients(&[&describe, &create_change_set], &[&head_bucket]);

    let (mut out, _) = output();
    let error = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Refused, "{error:#}");
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!(
            "bucket `{BUCKET}` already exists in eu-west-1, not in the config's region {REGION}"
        )),
        "{message}"
    );
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(head_bucket.num_calls(), 1);
    assert_eq!(create_change_set.num_calls(), 0);
}
