//! The deployment engine in states an emulator cannot produce, against clients whose responses
//! come from aws-smithy-mocks: a stack left in ROLLBACK_COMPLETE, an update that fails and rolls
//! back, throttling, and a bucket name owned by another account. No real sleeping: every test runs
//! on paused (virtual) tokio time, so the production polling and retry schedules run in full
//! while the clock only jumps.

use std::time::Duration;

use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::types::{
    ChangeAction, ChangeSetType, ResourceStatus, StackStatus, Tag,
};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use s3_provisioner::aws::{AwsClients, DEPLOYMENT_TAG, cfn};
use s3_provisioner::exit::{ExitStatus, status_for_error};
use s3_provisioner::ops::engine::{self, DeployRequest, StackAction, Waits};

use crate::support::mocks::{
    self, BUCKET, Recreation, STACK, event, events, missing_stack, output, ready_change_set, stack,
    stacks,
};

const OLD_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/old";
const NEW_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/new";

/// The tool's clients, answering from `cfn_rules` and `s3_rules`, with standard retries and a
/// real back-off (virtual time: it costs the test nothing).
fn clients(cfn_rules: &[&Rule], s3_rules: &[&Rule]) -> AwsClients {
    let retries = || {
        Some(mocks::retries(
            Duration::from_millis(250),
            Duration::from_secs(5),
        ))
    };
    mocks::clients(
        mocks::cfn(cfn_rules, retries()),
        mocks::s3(s3_rules, retries()),
    )
}

fn request(force: bool) -> DeployRequest<'static> {
    mocks::request("Resources: {}\n", force, false)
}

/// The production schedule, with a 30 s deadline.
fn waits() -> Waits {
    Waits::for_timeout(Duration::from_secs(30))
}

// --- Tests -------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_rolled_back_stack_is_deleted_and_created_again_with_force() {
    let by_name = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_output(|| stacks(stack(OLD_ID, StackStatus::RollbackComplete)));
    let recreation = Recreation::new(OLD_ID, NEW_ID);
    let old_events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .match_requests(|r| r.stack_name() == Some(OLD_ID))
        .sequence()
        .output(|| {
            events(vec![event(
                "o1",
                OLD_ID,
                STACK,
                ResourceStatus::RollbackComplete,
                None,
            )])
        })
        .output(|| {
            events(vec![
                event("o3", OLD_ID, STACK, ResourceStatus::DeleteComplete, None),
                event("o2", OLD_ID, STACK, ResourceStatus::DeleteInProgress, None),
                event("o1", OLD_ID, STACK, ResourceStatus::RollbackComplete, None),
            ])
        })
        .repeatedly()
        .build();
    let cfn_rules: Vec<&Rule> = [&by_name, &old_events]
        .into_iter()
        .chain(recreation.cfn_rules())
        .collect();
    let aws = clients(&cfn_rules, &[&recreation.head_bucket]);

    // Without --force and without a terminal: refused before anything is deleted.
    let (mut out, _) = output();
    let error = engine::deploy(&mut out, &aws, &request(false), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Refused);
    assert_eq!(recreation.delete_stack.num_calls(), 0);

    let (mut out, captured) = output();
    let deployed = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap();
    assert_eq!(deployed.action, StackAction::Recreated);
    assert_eq!(deployed.status, "CREATE_COMPLETE");
    assert_eq!(deployed.stack_id, NEW_ID);
    assert_eq!(deployed.outputs["BucketName"], BUCKET);
    assert_eq!(recreation.delete_stack.num_calls(), 1);
    assert_eq!(recreation.execute.num_calls(), 1);
    assert_eq!(recreation.head_bucket.num_calls(), 1);
    let stderr = captured.stderr();
    assert!(stderr.contains("is ROLLBACK_COMPLETE"), "{stderr}");
    assert!(
        stderr
            .contains("Bucket                       AWS::S3::Bucket              CREATE_COMPLETE"),
        "{stderr}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_update_lists_each_failed_resource_with_its_reason() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .sequence()
        .output(|| stacks(stack(OLD_ID, StackStatus::UpdateComplete)))
        .output(|| stacks(stack(OLD_ID, StackStatus::UpdateRollbackComplete)))
        .repeatedly()
        .build();
    let stack_events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![event("e0", OLD_ID, STACK, ResourceStatus::UpdateComplete, None)]))
        .output(|| {
            events(vec![
                event("e5", OLD_ID, STACK, ResourceStatus::UpdateRollbackComplete, None),
                event("e4", OLD_ID, STACK, ResourceStatus::UpdateRollbackInProgress, Some("The following resource(s) failed to update: [Bucket].")),
                event("e3", OLD_ID, "Bucket", ResourceStatus::UpdateFailed, Some("Access Denied (Service: S3, Status Code: 403) on PutBucketLifecycleConfiguration")),
                event("e2", OLD_ID, "Bucket", ResourceStatus::UpdateInProgress, None),
                event("e1", OLD_ID, STACK, ResourceStatus::UpdateInProgress, Some("User Initiated")),
                event("e0", OLD_ID, STACK, ResourceStatus::UpdateComplete, None),
            ])
        })
        .repeatedly()
        .build();
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .match_requests(|r| r.change_set_type() == Some(&ChangeSetType::Update))
        .then_output(|| mocks::created_change_set(OLD_ID));
    let describe_change_set = mock!(aws_sdk_cloudformation::Client::describe_change_set)
        .then_output(|| ready_change_set(OLD_ID, ChangeAction::Modify));
    let execute = mock!(aws_sdk_cloudformation::Client::execute_change_set)
        .then_output(|| ExecuteChangeSetOutput::builder().build());
    let get_template = mock!(aws_sdk_cloudformation::Client::get_template).then_output(|| {
        GetTemplateOutput::builder()
            .template_body("Resources: {}\n")
            .build()
    });
    let aws = clients(
        &[
            &describe,
            &stack_events,
            &create_change_set,
            &describe_change_set,
            &execute,
            &get_template,
        ],
        &[],
    );

    let (mut out, captured) = output();
    let error = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Failure);
    let message = format!("{error:#}");
    assert!(
        message.contains("is now UPDATE_ROLLBACK_COMPLETE"),
        "{message}"
    );
    assert!(
        message.contains("rolled back to its previous state"),
        "{message}"
    );
    let stderr = captured.stderr();
    assert!(
        stderr.contains("Bucket (AWS::S3::Bucket) UPDATE_FAILED: Access Denied (Service: S3, Status Code: 403) on PutBucketLifecycleConfiguration"),
        "{stderr}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_until_the_call_succeeds() {
    let throttled = || {
        DescribeStacksError::generic(
            ErrorMetadata::builder()
                .code("Throttling")
                .message("Rate exceeded")
                .build(),
        )
    };
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| stacks(stack(OLD_ID, StackStatus::UpdateComplete)))
        .build();
    let aws = clients(&[&describe], &[]);
    let stack = cfn::describe_stack(&aws.cfn, STACK).await.unwrap().unwrap();
    assert_eq!(stack.status_name, "UPDATE_COMPLETE");
    assert_eq!(describe.num_calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_bucket_name_owned_by_another_account_is_refused_before_any_change() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_error(missing_stack);
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .then_output(|| CreateChangeSetOutput::builder().build());
    let head_bucket = mock!(aws_sdk_s3::Client::head_bucket)
        .sequence()
        .http_status(403, None)
        .repeatedly()
        .build();
    let aws = clients(&[&describe, &create_change_set], &[&head_bucket]);

    let (mut out, _) = output();
    let error = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Refused);
    assert!(
        format!("{error:#}").contains("taken by another AWS account"),
        "{error:#}"
    );
    assert_eq!(create_change_set.num_calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_change_set_without_changes_is_up_to_date_and_deleted() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .then_output(|| stacks(stack(OLD_ID, StackStatus::UpdateComplete)));
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .then_output(|| mocks::created_change_set(OLD_ID));
    let describe_change_set = mock!(aws_sdk_cloudformation::Client::describe_change_set)
        .then_output(|| mocks::empty_change_set(OLD_ID));
    let delete_change_set = mock!(aws_sdk_cloudformation::Client::delete_change_set)
        .then_output(|| DeleteChangeSetOutput::builder().build());
    let execute = mock!(aws_sdk_cloudformation::Client::execute_change_set)
        .then_output(|| ExecuteChangeSetOutput::builder().build());
    let aws = clients(
        &[
            &describe,
            &create_change_set,
            &describe_change_set,
            &delete_change_set,
            &execute,
        ],
        &[],
    );
    let (mut out, _) = output();
    let deployed = engine::deploy(&mut out, &aws, &request(false), waits())
        .await
        .unwrap();
    assert_eq!(deployed.action, StackAction::UpToDate);
    assert_eq!(delete_change_set.num_calls(), 1);
    assert_eq!(execute.num_calls(), 0);
}

/// Another run executes its change set between this run's DescribeStacks (REVIEW_IN_PROGRESS)
/// and its ListChangeSets (now empty, as after an execution): the stack is read again before
/// it is deleted, so this run updates the other run's deployment instead of deleting it.
#[tokio::test(start_paused = true)]
async fn a_review_stack_executed_by_another_run_meanwhile_is_not_deleted() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .sequence()
        .output(|| stacks(stack(OLD_ID, StackStatus::ReviewInProgress)))
        .output(|| stacks(stack(OLD_ID, StackStatus::CreateComplete)))
        .repeatedly()
        .build();
    let list_change_sets =
        mock!(aws_sdk_cloudformation::Client::list_change_sets).then_output(|| {
            aws_sdk_cloudformation::operation::list_change_sets::ListChangeSetsOutput::builder()
                .build()
        });
    let delete_stack = mock!(aws_sdk_cloudformation::Client::delete_stack)
        .then_output(|| DeleteStackOutput::builder().build());
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .match_requests(|r| r.change_set_type() == Some(&ChangeSetType::Update))
        .then_output(|| mocks::created_change_set(OLD_ID));
    let describe_change_set = mock!(aws_sdk_cloudformation::Client::describe_change_set)
        .then_output(|| mocks::empty_change_set(OLD_ID));
    let delete_change_set = mock!(aws_sdk_cloudformation::Client::delete_change_set)
        .then_output(|| DeleteChangeSetOutput::builder().build());
    let aws = clients(
        &[
            &describe,
            &list_change_sets,
            &delete_stack,
            &create_change_set,
            &describe_change_set,
            &delete_change_set,
        ],
        &[],
    );
    let (mut out, _) = output();
    let deployed = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap();
    assert_eq!(delete_stack.num_calls(), 0);
    assert_eq!(deployed.action, StackAction::UpToDate);
    assert_eq!(create_change_set.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stack_of_another_deployment_is_refused() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_output(|| {
        let mut foreign = stack(OLD_ID, StackStatus::CreateComplete);
        foreign.tags = Some(vec![
            Tag::builder()
                .key(DEPLOYMENT_TAG)
                .value("someone-else")
                .build(),
        ]);
        stacks(foreign)
    });
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .then_output(|| CreateChangeSetOutput::builder().build());
    let aws = clients(&[&describe, &create_change_set], &[]);
    let (mut out, _) = output();
    let error = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Refused);
    assert!(format!("{error:#}").contains("belongs to deployment `someone-else`"));
    assert_eq!(create_change_set.num_calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn waiting_past_the_timeout_says_the_operation_continues_and_how_to_check_it() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .then_output(|| stacks(stack(OLD_ID, StackStatus::UpdateInProgress)));
    let stack_events =
        mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| {
            events(vec![event(
                "e1",
                OLD_ID,
                STACK,
                ResourceStatus::UpdateInProgress,
                None,
            )])
        });
    let aws = clients(&[&describe, &stack_events], &[]);
    let mut cursor = cfn::EventCursor::since(OLD_ID, time::OffsetDateTime::UNIX_EPOCH);
    let (mut out, _) = output();
    let error = engine::watch(
        &mut out,
        &aws,
        &mut cursor,
        cfn::Poller::stack(Duration::ZERO),
    )
    .await
    .unwrap_err();
    let timeout = error
        .downcast_ref::<cfn::WaitTimeout>()
        .expect("a WaitTimeout");
    assert_eq!(timeout.status, "UPDATE_IN_PROGRESS");
    let message = error.to_string();
    assert!(
        message.contains("continues inside CloudFormation"),
        "{message}"
    );
    assert!(
        message.contains("aws cloudformation describe-stacks --stack-name edge-prod-b001-us-west-1-s3-stack --region us-west-1"),
        "{message}"
    );
    assert_eq!(status_for_error(&error), ExitStatus::Failure);
}

/// A template whose bucket is named `name`.
fn template_naming(name: &str) -> String {
    format!(
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: {name}\n"
    )
}

#[tokio::test(start_paused = true)]
async fn a_bucket_rename_the_change_set_does_not_call_a_replacement_is_refused() {
    let describe = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .then_output(|| stacks(stack(OLD_ID, StackStatus::UpdateComplete)));
    let create_change_set = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .then_output(|| mocks::created_change_set(OLD_ID));
    // A plain Modify of the bucket, no Replacement: only the templates tell the name changed.
    let describe_change_set = mock!(aws_sdk_cloudformation::Client::describe_change_set)
        .then_output(|| ready_change_set(OLD_ID, ChangeAction::Modify));
    let get_template = mock!(aws_sdk_cloudformation::Client::get_template).then_output(|| {
        GetTemplateOutput::builder()
            .template_body(template_naming(BUCKET))
            .build()
    });
    let delete_change_set = mock!(aws_sdk_cloudformation::Client::delete_change_set)
        .then_output(|| DeleteChangeSetOutput::builder().build());
    let execute = mock!(aws_sdk_cloudformation::Client::execute_change_set)
        .then_output(|| ExecuteChangeSetOutput::builder().build());
    let stack_events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .sequence()
        .output(|| {
            events(vec![event(
                "e0",
                OLD_ID,
                STACK,
                ResourceStatus::UpdateComplete,
                None,
            )])
        })
        .output(|| {
            events(vec![
                event("e2", OLD_ID, STACK, ResourceStatus::UpdateComplete, None),
                event(
                    "e1",
                    OLD_ID,
                    STACK,
                    ResourceStatus::UpdateInProgress,
                    Some("User Initiated"),
                ),
                event("e0", OLD_ID, STACK, ResourceStatus::UpdateComplete, None),
            ])
        })
        .repeatedly()
        .build();
    let aws = clients(
        &[
            &describe,
            &create_change_set,
            &describe_change_set,
            &get_template,
            &delete_change_set,
            &execute,
            &stack_events,
        ],
        &[],
    );
    let renamed: &'static str = Box::leak(template_naming("another-bucket-name").into_boxed_str());
    let same: &'static str = Box::leak(template_naming(BUCKET).into_boxed_str());

    let (mut out, _) = output();
    let renaming = DeployRequest {
        template_body: renamed,
        ..request(true)
    };
    let error = engine::deploy(&mut out, &aws, &renaming, waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Refused, "{error:#}");
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("bucket {BUCKET} of stack {STACK}")),
        "{message}"
    );
    assert_eq!(
        delete_change_set.num_calls(),
        1,
        "the change set is deleted"
    );
    assert_eq!(execute.num_calls(), 0, "nothing is executed");

    // The same name goes ahead.
    let (mut out, _) = output();
    let unchanged_name = DeployRequest {
        template_body: same,
        ..request(true)
    };
    let deployed = engine::deploy(&mut out, &aws, &unchanged_name, waits())
        .await
        .unwrap();
    assert_eq!(deployed.action, StackAction::Updated);
    assert_eq!(execute.num_calls(), 1);
}
