//! `--revert-drift` through the deployment engine against clients answering from
//! aws-smithy-mocks, with drift-aware change sets shaped like AWS's (DeploymentMode,
//! ResourceDriftStatus, Target.Drift with ActualValue / PreviousValue, BeforeValueFrom
//! ACTUAL_STATE, AfterValueFrom TEMPLATE): what the plan shows, that nothing is executed without
//! confirmation, and that an endpoint without the mode is exit 1 with nothing executed — never
//! a plain deployment.

use std::time::Duration;

use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetError;
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::types::{
    AfterValueFrom, AttributeChangeType, BeforeValueFrom, Change, ChangeAction, ChangeSetStatus,
    ChangeSource, ChangeType, DeploymentMode, EvaluationType, ExecutionStatus, LiveResourceDrift,
    Replacement, RequiresRecreation, ResourceAttribute, ResourceChange, ResourceChangeDetail,
    ResourceTargetDefinition, StackDriftStatus, StackResourceDriftStatus, StackStatus,
};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::DateTime;
use aws_smithy_types::error::ErrorMetadata;
use s3_provisioner::aws::AwsClients;
use s3_provisioner::exit::{ExitStatus, status_for_error};
use s3_provisioner::ops::engine::{self, DeployRequest, Waits};

use crate::support::mocks::{self, BUCKET, CHANGE_SET_ID, Cfn, STACK, output};

const STACK_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/1";
const TEMPLATE: &str = mocks::BUCKET_TEMPLATE;

/// The tool's clients: CloudFormation answering from `cfn_rules`; no S3, STS or SSM call is
/// expected.
fn clients(cfn_rules: &[&Rule]) -> AwsClients {
    mocks::clients(mocks::cfn(cfn_rules, None), mocks::s3(&[], None))
}

fn request(force: bool) -> DeployRequest<'static> {
    mocks::request(TEMPLATE, force, true)
}

fn waits() -> Waits {
    Waits::immediate(Duration::from_secs(30))
}

/// The deployed, owned stack (UPDATE_COMPLETE, bucket output).
fn stack_rule() -> Rule {
    mock!(Cfn::describe_stacks)
        .then_output(|| mocks::stacks(mocks::stack(STACK_ID, StackStatus::UpdateComplete)))
}

/// CreateChangeSet, answering only a request that asks for REVERT_DRIFT on an UPDATE.
fn create_rule() -> Rule {
    mock!(Cfn::create_change_set)
        .match_requests(|r| {
            r.deployment_mode() == Some(&DeploymentMode::RevertDrift)
                && r.change_set_type()
                    == Some(&aws_sdk_cloudformation::types::ChangeSetType::Update)
        })
        .then_output(|| mocks::created_change_set(STACK_ID))
}

fn template_rule() -> Rule {
    mock!(Cfn::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(TEMPLATE).build())
}

/// A drifted property as AWS describes it in a drift-aware change set.
fn drifted(
    path: &str,
    name: &str,
    attribute: ResourceAttribute,
    live: &str,
    template: &str,
) -> ResourceChangeDetail {
    ResourceChangeDetail::builder()
        .target(
            ResourceTargetDefinition::builder()
                .attribute(attribute)
                .name(name)
                .path(path)
                .requires_recreation(RequiresRecreation::Never)
                .before_value(live)
                .before_value_from(BeforeValueFrom::ActualState)
                .after_value(template)
                .after_value_from(AfterValueFrom::Template)
                .attribute_change_type(AttributeChangeType::Modify)
                .drift(
                    LiveResourceDrift::builder()
                        .actual_value(live)
                        .previous_value(template)
                        .drift_detection_timestamp(DateTime::from_secs(1_767_225_600))
                        .build(),
                )
                .build(),
        )
        .evaluation(EvaluationType::Static)
        .change_source(ChangeSource::DirectModification)
        .build()
}

/// A computed drift-aware change set: the bucket's versioning and one tag drifted; the SSM
/// parameter changes in the template and has not drifted.
fn drift_aware_change_set() -> DescribeChangeSetOutput {
    DescribeChangeSetOutput::builder()
        .change_set_id(CHANGE_SET_ID)
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .status(ChangeSetStatus::CreateComplete)
        .execution_status(ExecutionStatus::Available)
        .deployment_mode(DeploymentMode::RevertDrift)
        .stack_drift_status(StackDriftStatus::Drifted)
        .changes(
            Change::builder()
                .r#type(ChangeType::Resource)
                .resource_change(
                    ResourceChange::builder()
                        .action(ChangeAction::Modify)
                        .logical_resource_id("Bucket")
                        .physical_resource_id(BUCKET)
                        .resource_type("AWS::S3::Bucket")
                        .replacement(Replacement::False)
                        .scope(ResourceAttribute::Properties)
                        .scope(ResourceAttribute::Tags)
                        .resource_drift_status(StackResourceDriftStatus::Modified)
                        .details(drifted(
                            "/Properties/VersioningConfiguration/Status",
                            "VersioningConfiguration",
                            ResourceAttribute::Properties,
                            "Suspended",
                            "Enabled",
                        ))
                        .details(drifted(
                            "/Properties/Tags/0/Value",
                            "Tags",
                            ResourceAttribute::Tags,
                            "someone-else",
                            "data-science",
                        ))
                        .build(),
                )
                .build(),
        )
        .changes(
            Change::builder()
                .r#type(ChangeType::Resource)
                .resource_change(
                    ResourceChange::builder()
                        .action(ChangeAction::Modify)
                        .logical_resource_id("BucketNameParameter")
                        .physical_resource_id("/s3-provisioner/x/bucket-name")
                        .resource_type("AWS::SSM::Parameter")
                        .replacement(Replacement::False)
                        .resource_drift_status(StackResourceDriftStatus::InSync)
                        .details(
                            ResourceChangeDetail::builder()
                                .target(
                                    ResourceTargetDefinition::builder()
                                        .attribute(ResourceAttribute::Properties)
                                        .name("Description")
                                        .path("/Properties/Description")
                                        .requires_recreation(RequiresRecreation::Never)
                                        .before_value("deployed by s3-provisioner 1.0.0-rc.1")
                                        .before_value_from(BeforeValueFrom::PreviousDeploymentState)
                                        .after_value("deployed by s3-provisioner 1.0.0")
                                        .after_value_from(AfterValueFrom::Template)
                                        .attribute_change_type(AttributeChangeType::Modify)
                                        .build(),
                                )
                                .evaluation(EvaluationType::Static)
                                .change_source(ChangeSource::DirectModification)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test]
async fn the_plan_shows_live_and_template_values_and_nothing_runs_without_confirmation() {
    let stack = stack_rule();
    let create = create_rule();
    let describe = mock!(Cfn::describe_change_set).then_output(drift_aware_change_set);
    let template = template_rule();
    let delete =
        mock!(Cfn::delete_change_set).then_output(|| DeleteChangeSetOutput::builder().build());
    let execute =
        mock!(Cfn::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build());
    let aws = clients(&[&stack, &create, &describe, &template, &delete, &execute]);

    let (mut out, captured) = output();
    let error = engine::deploy(&mut out, &aws, &request(false), waits())
        .await
        .unwrap_err();
    assert_eq!(status_for_error(&error), ExitStatus::Refused, "{error:#}");
    assert_eq!(
        create.num_calls(),
        1,
        "the change set asked for REVERT_DRIFT"
    );
    assert_eq!(
        execute.num_calls(),
        0,
        "nothing executed without confirmation"
    );
    assert_eq!(delete.num_calls(), 1, "the refused change set is deleted");

    let text = captured.stderr();
    let plan: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.contains("Changes to stack"))
        .take(6)
        .collect();
    insta::assert_snapshot!(plan.join("\n"), @r"
    Changes to stack edge-prod-b001-us-west-1-s3-stack:
      ~ modify  Bucket                       AWS::S3::Bucket  drift: MODIFIED
            VersioningConfiguration/Status: Suspended (live, changed outside CloudFormation) → Enabled (template)
            Tags/0/Value: someone-else (live, changed outside CloudFormation) → data-science (template)
      ~ modify  BucketNameParameter          AWS::SSM::Parameter
            Description: deployed by s3-provisioner 1.0.0-rc.1 → deployed by s3-provisioner 1.0.0
    ");
}

/// What an endpoint without drift-aware change sets answers to an unchanged template: the mode is
/// ignored, so the change set is a plain one and empty.
fn plain_empty_change_set() -> DescribeChangeSetOutput {
    mocks::empty_change_set(STACK_ID)
}

#[tokio::test]
async fn an_endpoint_that_ignores_the_mode_is_exit_1_not_a_plain_deployment() {
    for computed in [
        plain_empty_change_set as fn() -> DescribeChangeSetOutput,
        || {
            // Changes of the template, but no drift information: still not what was asked.
            let mut plain = drift_aware_change_set();
            plain.deployment_mode = None;
            plain.stack_drift_status = None;
            plain
        },
    ] {
        let stack = stack_rule();
        let create = create_rule();
        let describe = mock!(Cfn::describe_change_set).then_output(computed);
        let template = template_rule();
        let delete =
            mock!(Cfn::delete_change_set).then_output(|| DeleteChangeSetOutput::builder().build());
        let execute = mock!(Cfn::execute_change_set)
            .then_output(|| ExecuteChangeSetOutput::builder().build());
        let aws = clients(&[&stack, &create, &describe, &template, &delete, &execute]);

        let (mut out, captured) = output();
        let error = engine::deploy(&mut out, &aws, &request(true), waits())
            .await
            .unwrap_err();
        let message = format!("{error:#}");
        assert_eq!(status_for_error(&error), ExitStatus::Failure, "{message}");
        assert!(
            message
                .contains("does not support drift-aware change sets (DeploymentMode REVERT_DRIFT)"),
            "{message}"
        );
        assert!(
            message.contains("no plain deployment was made"),
            "{message}"
        );
        assert!(
            !captured.stderr().contains("already up to date"),
            "{}",
            captured.stderr()
        );
        assert_eq!(execute.num_calls(), 0, "nothing executed");
        assert_eq!(delete.num_calls(), 1, "the change set is deleted");
    }
}

#[tokio::test]
async fn an_endpoint_that_refuses_the_mode_is_exit_1() {
    let stack = stack_rule();
    let create = mock!(Cfn::create_change_set).then_error(|| {
        CreateChangeSetError::generic(
            ErrorMetadata::builder()
                .code("ValidationError")
                .message("1 validation error detected: Value 'REVERT_DRIFT' at 'deploymentMode' failed to satisfy constraint: Member must satisfy enum value set")
                .build(),
        )
    });
    let describe = mock!(Cfn::describe_change_set).then_output(drift_aware_change_set);
    let execute =
        mock!(Cfn::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build());
    let aws = clients(&[&stack, &create, &describe, &execute]);
    let (mut out, _) = output();
    let error = engine::deploy(&mut out, &aws, &request(true), waits())
        .await
        .unwrap_err();
    let message = format!("{error:#}");
    assert_eq!(status_for_error(&error), ExitStatus::Failure, "{message}");
    assert!(
        message.contains("does not support drift-aware change sets"),
        "{message}"
    );
    assert!(
        message.contains("deploymentMode"),
        "AWS's own answer is quoted: {message}"
    );
    assert_eq!(describe.num_calls(), 0);
    assert_eq!(execute.num_calls(), 0);
}
