//! The bucket-replacement guard against DescribeChangeSet answers shaped like AWS's own (the
//! CloudFormation API reference: ResourceChange, ResourceChangeDetail, ResourceTargetDefinition),
//! not against a Replacement flag an emulator computes: a replaced bucket (`Replacement: True`,
//! `PolicyAction: ReplaceAndRetain`), one that may be replaced (`Conditional`, a `Dynamic`
//! evaluation, `{{changeSet:KNOWN_AFTER_APPLY}}`), a removed one, and one whose action
//! CloudFormation cannot determine yet — each with the BucketPolicy and the SSM parameters that
//! `Ref` the bucket showing the `Dynamic`, `ResourceReference` modifications AWS lists for them.
//! Each is refused (exit 4) with the bucket named, and ExecuteChangeSet is never called. A
//! Modify that AWS says does not replace the bucket goes ahead. No sleeping: `Waits::immediate`.

use std::time::Duration;

use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeSource, ChangeType, EvaluationType,
    ExecutionStatus, PolicyAction, Replacement, RequiresRecreation, ResourceAttribute,
    ResourceChange, ResourceChangeDetail, ResourceStatus, ResourceTargetDefinition, StackEvent,
    StackStatus,
};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::DateTime;
use s3_provisioner::aws::AwsClients;
use s3_provisioner::cli::OutputFormat;
use s3_provisioner::exit::{ExitStatus, status_for_error};
use s3_provisioner::ops::engine::{self, DeployRequest, StackAction, Waits};
use s3_provisioner::output::{Output, OutputSettings};

use crate::support::mocks::{self, BUCKET, CHANGE_SET_ID, Cfn, STACK};

const STACK_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/1f2e";
/// What AWS puts in `AfterValue` for a value known only once the change set runs.
const KNOWN_AFTER_APPLY: &str = "{{changeSet:KNOWN_AFTER_APPLY}}";
/// The deployed template and the new one name the same bucket, so only the change set's own
/// verdict can stop a replacement.
const TEMPLATE: &str = mocks::BUCKET_TEMPLATE;

// --- Clients and requests ----------------------------------------------------------------------

/// The tool's clients: CloudFormation answering from `rules`; no S3, STS or SSM call is expected.
fn clients(rules: &[&Rule]) -> AwsClients {
    mocks::clients(mocks::cfn(rules, None), mocks::s3(&[], None))
}

fn request() -> DeployRequest<'static> {
    mocks::request(TEMPLATE, true, false)
}

// --- AWS-shaped answers ------------------------------------------------------------------------

fn stack(status: StackStatus) -> DescribeStacksOutput {
    mocks::stacks(mocks::stack(STACK_ID, status))
}

/// One `ResourceChangeDetail` of a property.
fn detail(
    name: &str,
    recreation: RequiresRecreation,
    before: &str,
    after: &str,
    evaluation: EvaluationType,
    source: ChangeSource,
    causing: Option<&str>,
) -> ResourceChangeDetail {
    ResourceChangeDetail::builder()
        .target(
            ResourceTargetDefinition::builder()
                .attribute(ResourceAttribute::Properties)
                .name(name)
                .requires_recreation(recreation)
                .path(format!("/Properties/{name}"))
                .before_value(before)
                .after_value(after)
                .build(),
        )
        .evaluation(evaluation)
        .change_source(source)
        .set_causing_entity(causing.map(str::to_owned))
        .build()
}

fn modify(
    logical: &str,
    physical: &str,
    kind: &str,
    replacement: Replacement,
    details: Vec<ResourceChangeDetail>,
) -> ResourceChange {
    ResourceChange::builder()
        .action(ChangeAction::Modify)
        .logical_resource_id(logical)
        .physical_resource_id(physical)
        .resource_type(kind)
        .replacement(replacement)
        .scope(ResourceAttribute::Properties)
        .set_details(Some(details))
        .build()
}

/// What AWS lists for the resources that `Ref` the bucket while the bucket's physical id may
/// change: the policy's `Bucket` (recreation Always, so Conditional) and the parameters' `Value`.
fn dependants_of_a_new_bucket() -> Vec<ResourceChange> {
    vec![
        modify(
            "BucketPolicy",
            "edge-prod-b001-us-west-1-s3-BucketPolicy-1AB2",
            "AWS::S3::BucketPolicy",
            Replacement::Conditional,
            vec![detail(
                "Bucket",
                RequiresRecreation::Always,
                BUCKET,
                KNOWN_AFTER_APPLY,
                EvaluationType::Dynamic,
                ChangeSource::ResourceReference,
                Some("Bucket"),
            )],
        ),
        modify(
            "BucketNameParameter",
            "/s3-provisioner/edge-prod-b001-us-west-1-s3/bucket-name",
            "AWS::SSM::Parameter",
            Replacement::False,
            vec![detail(
                "Value",
                RequiresRecreation::Never,
                BUCKET,
                KNOWN_AFTER_APPLY,
                EvaluationType::Dynamic,
                ChangeSource::ResourceReference,
                Some("Bucket"),
            )],
        ),
        modify(
            "BucketArnParameter",
            "/s3-provisioner/edge-prod-b001-us-west-1-s3/bucket-arn",
            "AWS::SSM::Parameter",
            Replacement::False,
            vec![detail(
                "Value",
                RequiresRecreation::Never,
                &format!("arn:aws:s3:::{BUCKET}"),
                KNOWN_AFTER_APPLY,
                EvaluationType::Dynamic,
                ChangeSource::ResourceAttribute,
                Some("Bucket.Arn"),
            )],
        ),
    ]
}

fn change_set(changes: Vec<ResourceChange>) -> DescribeChangeSetOutput {
    DescribeChangeSetOutput::builder()
        .change_set_id(CHANGE_SET_ID)
        .change_set_name("s3-provisioner-1")
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .status(ChangeSetStatus::CreateComplete)
        .execution_status(ExecutionStatus::Available)
        .include_nested_stacks(false)
        .set_changes(Some(
            changes
                .into_iter()
                .map(|c| {
                    Change::builder()
                        .r#type(ChangeType::Resource)
                        .resource_change(c)
                        .build()
                })
                .collect(),
        ))
        .build()
}

fn event(id: &str, status: ResourceStatus) -> StackEvent {
    StackEvent::builder()
        .event_id(id)
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .logical_resource_id(STACK)
        .resource_type("AWS::CloudFormation::Stack")
        .resource_status(status)
        .timestamp(DateTime::from_secs(1_767_225_600))
        .build()
}

/// The mocks of one update whose change set is `changes`.
struct Update {
    rules: Vec<Rule>,
    execute: Rule,
    delete_change_set: Rule,
}

fn update(changes: fn() -> Vec<ResourceChange>) -> Update {
    let describe = mock!(Cfn::describe_stacks)
        .sequence()
        .output(|| stack(StackStatus::CreateComplete))
        .output(|| stack(StackStatus::UpdateComplete))
        .repeatedly()
        .build();
    let create = mock!(Cfn::create_change_set).then_output(|| mocks::created_change_set(STACK_ID));
    let describe_change_set = mock!(Cfn::describe_change_set)
        .match_requests(|r| r.include_property_values() == Some(true))
        .then_output(move || change_set(changes()));
    let get_template = mock!(Cfn::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(TEMPLATE).build());
    let events = mock!(Cfn::describe_stack_events)
        .sequence()
        .output(|| {
            DescribeStackEventsOutput::builder()
                .stack_events(event("e0", ResourceStatus::CreateComplete))
                .build()
        })
        .output(|| {
            DescribeStackEventsOutput::builder()
                .stack_events(event("e2", ResourceStatus::UpdateComplete))
                .stack_events(event("e1", ResourceStatus::UpdateInProgress))
                .stack_events(event("e0", ResourceStatus::CreateComplete))
                .build()
        })
        .repeatedly()
        .build();
    let execute =
        mock!(Cfn::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build());
    let delete_change_set =
        mock!(Cfn::delete_change_set).then_output(|| DeleteChangeSetOutput::builder().build());
    Update {
        rules: vec![describe, create, describe_change_set, get_template, events],
        execute,
        delete_change_set,
    }
}

/// Deploy against `changes`; returns the outcome and the mocks' call counts (execute, delete).
async fn deploy(
    changes: fn() -> Vec<ResourceChange>,
) -> (anyhow::Result<engine::Deployed>, usize, usize) {
    let update = update(changes);
    let mut rules: Vec<&Rule> = update.rules.iter().collect();
    rules.push(&update.execute);
    rules.push(&update.delete_change_set);
    let aws = clients(&rules);
    let (mut out, _) = Output::captured(OutputSettings {
        format: OutputFormat::Text,
        no_color: true,
        quiet: false,
        verbose: 0,
    });
    let result = engine::deploy(
        &mut out,
        &aws,
        &request(),
        Waits::immediate(Duration::from_secs(30)),
    )
    .await;
    (
        result,
        update.execute.num_calls(),
        update.delete_change_set.num_calls(),
    )
}

/// Refused (exit 4) with the bucket and the way out named; nothing executed, the change set
/// deleted. Returns the message.
async fn assert_refused(changes: fn() -> Vec<ResourceChange>) -> String {
    let (result, executed, deleted) = deploy(changes).await;
    let error = result.expect_err("the change must be refused");
    assert_eq!(status_for_error(&error), ExitStatus::Refused, "{error:#}");
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("bucket {BUCKET} of stack {STACK}")),
        "{message}"
    );
    assert!(message.contains("Nothing was changed"), "{message}");
    assert!(message.contains("--action tear-down first"), "{message}");
    assert_eq!(executed, 0, "ExecuteChangeSet must never be called");
    assert_eq!(deleted, 1, "the refused change set is deleted");
    message
}

// --- Tests -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_bucket_replacement_aws_announces_is_refused() {
    let message = assert_refused(|| {
        let mut bucket = modify(
            "Bucket",
            BUCKET,
            "AWS::S3::Bucket",
            Replacement::True,
            vec![detail(
                "ObjectLockEnabled",
                RequiresRecreation::Always,
                "false",
                "true",
                EvaluationType::Static,
                ChangeSource::DirectModification,
                None,
            )],
        );
        bucket.policy_action = Some(PolicyAction::ReplaceAndRetain);
        let mut changes = vec![bucket];
        changes.extend(dependants_of_a_new_bucket());
        changes
    })
    .await;
    insta::assert_snapshot!(message, @"this change would replace or remove bucket edge-prod-b001-us-west-1-s3 of stack edge-prod-b001-us-west-1-s3-stack (the change set says Modify, Replacement True (ObjectLockEnabled requires recreation: Always)); s3-provisioner never replaces a bucket, because the data would stay behind in the old one. Nothing was changed. Check --config and --solution (a dedicated-bucket config needs its solution), or move the data and use --action tear-down first");
}

#[tokio::test]
async fn a_conditional_replacement_with_values_known_after_apply_is_refused() {
    assert_refused(|| {
        let mut changes = vec![modify(
            "Bucket",
            BUCKET,
            "AWS::S3::Bucket",
            Replacement::Conditional,
            vec![detail(
                "BucketName",
                RequiresRecreation::Always,
                BUCKET,
                KNOWN_AFTER_APPLY,
                EvaluationType::Dynamic,
                ChangeSource::DirectModification,
                None,
            )],
        )];
        changes.extend(dependants_of_a_new_bucket());
        changes
    })
    .await;
}

#[tokio::test]
async fn a_removal_of_the_bucket_is_refused() {
    assert_refused(|| {
        vec![
            ResourceChange::builder()
                .action(ChangeAction::Remove)
                .logical_resource_id("Bucket")
                .physical_resource_id(BUCKET)
                .resource_type("AWS::S3::Bucket")
                .policy_action(PolicyAction::Retain)
                .build(),
            ResourceChange::builder()
                .action(ChangeAction::Remove)
                .logical_resource_id("BucketPolicy")
                .physical_resource_id("edge-prod-b001-us-west-1-s3-BucketPolicy-1AB2")
                .resource_type("AWS::S3::BucketPolicy")
                .policy_action(PolicyAction::Delete)
                .build(),
        ]
    })
    .await;
}

/// Fails closed: an action CloudFormation cannot determine yet may be a replacement.
#[tokio::test]
async fn a_bucket_change_cloudformation_cannot_determine_yet_is_refused() {
    assert_refused(|| {
        vec![
            ResourceChange::builder()
                .action(ChangeAction::Dynamic)
                .logical_resource_id("Bucket")
                .physical_resource_id(BUCKET)
                .resource_type("AWS::S3::Bucket")
                .build(),
        ]
    })
    .await;
}

/// Fails closed: `PolicyAction: ReplaceAndRetain`, or a property that requires recreation, means
/// a replacement even when `Replacement` is missing.
#[tokio::test]
async fn a_replacement_said_only_by_the_policy_action_or_a_detail_is_refused() {
    assert_refused(|| {
        vec![
            ResourceChange::builder()
                .action(ChangeAction::Modify)
                .logical_resource_id("Bucket")
                .physical_resource_id(BUCKET)
                .resource_type("AWS::S3::Bucket")
                .policy_action(PolicyAction::ReplaceAndRetain)
                .build(),
        ]
    })
    .await;
    assert_refused(|| {
        vec![
            ResourceChange::builder()
                .action(ChangeAction::Modify)
                .logical_resource_id("Bucket")
                .physical_resource_id(BUCKET)
                .resource_type("AWS::S3::Bucket")
                .details(detail(
                    "ObjectLockEnabled",
                    RequiresRecreation::Always,
                    "false",
                    "true",
                    EvaluationType::Static,
                    ChangeSource::DirectModification,
                    None,
                ))
                .build(),
        ]
    })
    .await;
}

/// A tag change updates the bucket in place (`Replacement: False`); the policy and the
/// parameters still show `Dynamic` evaluations caused by the bucket. That is not a replacement.
#[tokio::test]
async fn an_in_place_bucket_update_with_dynamic_dependants_goes_ahead() {
    let (result, executed, deleted) = deploy(|| {
        vec![
            modify(
                "Bucket",
                BUCKET,
                "AWS::S3::Bucket",
                Replacement::False,
                vec![detail(
                    "Tags",
                    RequiresRecreation::Never,
                    "[{\"Key\":\"Owner\",\"Value\":\"data-science\"}]",
                    "[{\"Key\":\"Owner\",\"Value\":\"ml-platform\"}]",
                    EvaluationType::Static,
                    ChangeSource::DirectModification,
                    None,
                )],
            ),
            modify(
                "BucketPolicy",
                "edge-prod-b001-us-west-1-s3-BucketPolicy-1AB2",
                "AWS::S3::BucketPolicy",
                Replacement::False,
                vec![detail(
                    "PolicyDocument",
                    RequiresRecreation::Never,
                    "{}",
                    KNOWN_AFTER_APPLY,
                    EvaluationType::Dynamic,
                    ChangeSource::ResourceAttribute,
                    Some("Bucket.Arn"),
                )],
            ),
            modify(
                "BucketNameParameter",
                "/s3-provisioner/edge-prod-b001-us-west-1-s3/bucket-name",
                "AWS::SSM::Parameter",
                Replacement::False,
                vec![detail(
                    "Value",
                    RequiresRecreation::Never,
                    BUCKET,
                    KNOWN_AFTER_APPLY,
                    EvaluationType::Dynamic,
                    ChangeSource::ResourceReference,
                    Some("Bucket"),
                )],
            ),
        ]
    })
    .await;
    let deployed = result.expect("an in-place update goes ahead");
    assert_eq!(deployed.action, StackAction::Updated);
    assert_eq!(deployed.status, "UPDATE_COMPLETE");
    assert_eq!(executed, 1);
    assert_eq!(deleted, 0);
}
