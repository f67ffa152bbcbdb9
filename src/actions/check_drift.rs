//! `check-drift` (docs/actions.md): compare the deployed stack and the live bucket with the config,
//! in three steps — CloudFormation's own drift detection, the tool's live check of the bucket and
//! its SSM parameters, and the solution folder blueprint — and print one table of findings.
//!
//! Exit 0 in sync, 3 on any drift. CloudFormation detection that fails (`DETECTION_FAILED`) or
//! times out is exit 1 (the check is incomplete), still with every live finding reported. An
//! endpoint without drift detection (local emulators) is said once and the live checks go on.
//! Read-only: nothing is changed.

use serde::Serialize;

use super::{Ctx, Outcome, config_arg, deploy_action, shell_word};
use crate::aws::AwsClients;
use crate::aws::cfn::{self, Poller};
use crate::aws::drift::{StackDriftOutcome, detect_stack_drift};
use crate::drift::{self, Check, CheckResult, Finding, Source, compare};
use crate::exit::ExitStatus;
use crate::naming::Deployment;
use crate::ops::{engine, live_checks};
use crate::output::Style;

/// The `result` of the JSON document.
#[derive(Debug, Serialize)]
pub struct CheckDriftResult {
    pub deployment: String,
    pub stack: String,
    pub bucket: String,
    /// True when no check found anything and CloudFormation's detection did not fail.
    pub in_sync: bool,
    /// How CloudFormation drift detection ended.
    pub cloudformation: StackDriftOutcome,
    /// Pass/fail of each live check.
    pub checks: Vec<CheckResult>,
    /// Every finding, CloudFormation's first, then the live and blueprint ones.
    pub findings: Vec<Finding>,
}

/// Run the action.
pub async fn run(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    let deployment = ctx.deployment;
    let stack = cfn::describe_stack(&aws.cfn, &deployment.stack_name).await?;
    let Some(stack) = stack else {
        anyhow::bail!(
            "stack {} does not exist in {}: deployment {} is not deployed, so there is nothing to compare. Deploy it with --action {} --force",
            deployment.stack_name,
            aws.region,
            deployment.name,
            deploy_action(deployment),
        );
    };
    // Like every other action: a stack this deployment does not own is not looked into (exit 4).
    engine::ensure_owned(&stack, deployment)?;
    // A shell (REVIEW_IN_PROGRESS, a failed first creation) has no resources: comparing it would
    // report every setting as drift, when the truth is that nothing is deployed.
    if engine::holds_no_deployment(&stack) {
        anyhow::bail!(
            "stack {} is {}: it holds no resources, so deployment {} is not deployed and there is nothing to compare. Deploy it with --action {} --force (that deletes the empty stack and creates it again)",
            deployment.stack_name,
            stack.status_name,
            deployment.name,
            deploy_action(deployment),
        );
    }
    ctx.out.info(
        format!("Checking deployment {} for drift", deployment.name),
        &[
            ("stack", &deployment.stack_name),
            ("status", &stack.status_name),
            ("bucket", &deployment.bucket_name),
        ],
    );

    let outcome = detect_stack_drift(
        &aws.cfn,
        &deployment.stack_name,
        Poller::stack(ctx.options.timeout),
    )
    .await?;
    let detection_failed = matches!(
        outcome,
        StackDriftOutcome::DetectionFailed { .. } | StackDriftOutcome::TimedOut { .. }
    );
    match &outcome {
        StackDriftOutcome::Completed { .. } => ctx.out.info(outcome.summary(), &[]),
        StackDriftOutcome::Unavailable { .. } => ctx.out.warn(outcome.summary()),
        StackDriftOutcome::DetectionFailed { .. } | StackDriftOutcome::TimedOut { .. } => {
            ctx.out.error(outcome.summary());
        }
    }

    let mut findings = compare::stack_findings(&outcome);
    findings.extend(live_checks::live_findings(aws, ctx.config, deployment).await?);
    let checks = drift::check_results(&Check::LIVE, &findings);
    let in_sync = findings.is_empty() && !detection_failed;

    if findings.is_empty() {
        if !detection_failed {
            let line = format!(
                "{} deployment {} matches its config (stack {}, bucket {}; checked: {})",
                ctx.out.paint(Style::Green, "In sync:"),
                deployment.name,
                deployment.stack_name,
                deployment.bucket_name,
                checked_list(&outcome),
            );
            ctx.out.result(line);
        }
    } else {
        for line in drift::table(&findings) {
            ctx.out.result(line);
        }
        let drifted: Vec<&str> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.check.as_str())
            .chain(
                findings
                    .iter()
                    .any(|f| f.check == Check::Stack)
                    .then_some(Check::Stack.as_str()),
            )
            .collect();
        let line = format!(
            "{} {} finding(s) in {} ({}).",
            ctx.out.paint(Style::Red, "Drift detected:"),
            findings.len(),
            deployment.name,
            drifted.join(", "),
        );
        ctx.out.result(line);
        let revert = revert_command(ctx);
        for advice in drift_advice(&findings, deployment, revert.as_deref()) {
            ctx.out.result(format!("  {advice}"));
        }
    }

    let status = if detection_failed {
        ExitStatus::Failure
    } else if findings.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Differences
    };
    Outcome::new(
        status,
        &CheckDriftResult {
            deployment: deployment.name.clone(),
            stack: deployment.stack_name.clone(),
            bucket: deployment.bucket_name.clone(),
            in_sync,
            cloudformation: outcome,
            checks,
            findings,
        },
    )
}

/// What to do about the findings. Setting drift: a plain redeploy of an unchanged template is an
/// empty change set and undoes nothing, so the advice names the command that does (`revert`,
/// the drift-aware deployment; `None` for a test deployment, which only test-deploy deploys).
/// Missing folder markers are recreated by the deploying actions either way.
fn drift_advice(
    findings: &[Finding],
    deployment: &Deployment,
    revert: Option<&str>,
) -> Vec<String> {
    let mut advice = Vec::new();
    let action = deploy_action(deployment);
    if findings.iter().any(|f| f.source != Source::Blueprint) {
        advice.push(match revert {
            Some(command) => format!(
                "Settings: put them back to the config's values with `{command}` (it shows what it will change and asks; preview it with --action show-changes --revert-drift). A plain redeploy does not undo them: CloudFormation does not reapply an unchanged template. If the live value is what you want, put it in the config and deploy it (--action show-changes, then --action {action} --force)"
            ),
            None => format!(
                "Settings: CloudFormation does not reapply an unchanged template, so redeploying alone will not undo these. Change them back (S3 console or `aws s3api`), or, if the live value is what you want, put it in the config and deploy it (--action show-changes, then --action {action} --force)"
            ),
        });
    }
    if findings.iter().any(|f| f.source == Source::Blueprint) {
        advice.push(format!(
            "Folders: recreate the missing markers with --action {action} --force (other solutions in a shared bucket: --action deploy-solution --solution NAME)"
        ));
    }
    advice
}

/// The command that reverts this deployment's drift, with the options as the user gave them
/// (config as named, `--solution` only when given, `--profile`). `None` for a test deployment.
fn revert_command(ctx: &Ctx<'_>) -> Option<String> {
    use std::fmt::Write as _;
    if ctx.options.test_id.is_some() {
        return None;
    }
    let mut command = format!(
        "s3-provisioner --config {} --action {}",
        shell_word(&config_arg(ctx)),
        deploy_action(ctx.deployment)
    );
    if let Some(solution) = &ctx.options.solution {
        let _ = write!(command, " --solution {}", shell_word(solution));
    }
    if let Some(profile) = &ctx.options.profile {
        let _ = write!(command, " --profile {}", shell_word(profile));
    }
    command.push_str(" --revert-drift");
    Some(command)
}

fn checked_list(outcome: &StackDriftOutcome) -> String {
    let cloudformation = match outcome {
        StackDriftOutcome::Unavailable { .. } => "cloudformation (not available)",
        _ => "cloudformation",
    };
    std::iter::once(cloudformation)
        .chain(Check::LIVE.iter().map(|c| c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    //! The action's exit status for CloudFormation outcomes an emulator cannot produce, with
    //! clients answering from aws-smithy-mocks. The bucket is made to be missing so the live
    //! checks need no further mocks (it is one live finding).

    use std::path::Path;
    use std::time::Duration;

    use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
    use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
    use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
    use aws_sdk_cloudformation::types::{
        Stack, StackDriftDetectionStatus, StackDriftStatus, StackResourceDrift,
        StackResourceDriftStatus, StackStatus,
    };
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    use aws_smithy_mocks::{Rule, mock};
    use aws_smithy_types::DateTime;

    use super::*;
    use crate::aws::mocks;
    use crate::cli::{Action, OutputFormat};
    use crate::fixtures;
    use crate::naming;

    type Cfn = aws_sdk_cloudformation::Client;

    /// Run check-drift for the shared site against `cfn_rules`; the bucket and parameters are
    /// missing.
    async fn check_drift(cfn_rules: &[&Rule]) -> (Outcome, String) {
        let (outcome, text) =
            check_drift_of(StackStatus::CreateComplete, Some(DEPLOYMENT), cfn_rules).await;
        (outcome.unwrap(), text)
    }

    const DEPLOYMENT: &str = "edge-prod-b001-us-west-1-s3";

    /// check-drift against a stack in `status`, tagged for `owner` (`None`: untagged).
    async fn check_drift_of(
        status: StackStatus,
        owner: Option<&'static str>,
        cfn_rules: &[&Rule],
    ) -> (anyhow::Result<Outcome>, String) {
        let stack = mock!(Cfn::describe_stacks).then_output(move || {
            let tags = owner.map(|owner| {
                vec![
                    aws_sdk_cloudformation::types::Tag::builder()
                        .key(crate::aws::DEPLOYMENT_TAG)
                        .value(owner)
                        .build(),
                ]
            });
            DescribeStacksOutput::builder()
                .stacks(
                    Stack::builder()
                        .stack_name("edge-prod-b001-us-west-1-s3-stack")
                        .stack_id("arn:aws:cloudformation:us-west-1:123456789012:stack/x/1")
                        .stack_status(status.clone())
                        .set_tags(tags)
                        .creation_time(DateTime::from_secs(0))
                        .build(),
                )
                .build()
        });
        let missing_bucket = mock!(aws_sdk_s3::Client::head_bucket)
            .sequence()
            .http_status(404, None)
            .build();
        let missing_parameter = mock!(aws_sdk_ssm::Client::get_parameter).then_error(|| {
            GetParameterError::ParameterNotFound(
                aws_sdk_ssm::types::error::ParameterNotFound::builder().build(),
            )
        });
        let mut rules = vec![&stack];
        rules.extend_from_slice(cfn_rules);
        let aws = mocks::clients(&rules, &[&missing_bucket], &[&missing_parameter]);

        let config = fixtures::shared_site();
        let deployment = naming::shared_deployment(&config).unwrap();
        let mut options =
            fixtures::run_options(Action::CheckDrift, naming::MASTER_SOLUTION, Path::new("."));
        options.timeout = Duration::ZERO;
        let (mut out, captured) = fixtures::captured_output(OutputFormat::Text);
        let mut ctx = Ctx {
            config: &config,
            deployment: &deployment,
            options: &options,
            out: &mut out,
        };
        let outcome = run(&mut ctx, &aws).await;
        (outcome, captured.stdout() + &captured.stderr())
    }

    #[tokio::test]
    async fn a_stack_this_tool_did_not_create_is_refused_before_detection() {
        let detect = detect();
        for owner in [None, Some("edge-prod-b001-us-west-1-s3-other")] {
            let (outcome, _) = check_drift_of(StackStatus::CreateComplete, owner, &[&detect]).await;
            let error = outcome.unwrap_err();
            assert_eq!(
                crate::exit::status_for_error(&error),
                ExitStatus::Refused,
                "{owner:?}: {error:#}"
            );
        }
        assert_eq!(
            detect.num_calls(),
            0,
            "no drift detection on a foreign stack"
        );
    }

    #[tokio::test]
    async fn a_stack_shell_is_not_deployed_rather_than_drifted() {
        let detect = detect();
        for status in [StackStatus::ReviewInProgress, StackStatus::RollbackComplete] {
            let (outcome, _) = check_drift_of(status.clone(), Some(DEPLOYMENT), &[&detect]).await;
            let message = format!("{:#}", outcome.unwrap_err());
            assert!(message.contains("is not deployed"), "{status:?}: {message}");
            assert!(message.contains(status.as_str()), "{message}");
        }
        assert_eq!(detect.num_calls(), 0);
    }

    fn detect() -> Rule {
        mock!(Cfn::detect_stack_drift).then_output(|| {
            DetectStackDriftOutput::builder()
                .stack_drift_detection_id("d1")
                .build()
        })
    }

    fn status(detection: StackDriftDetectionStatus) -> DescribeStackDriftDetectionStatusOutput {
        DescribeStackDriftDetectionStatusOutput::builder()
            .stack_id("x")
            .stack_drift_detection_id("d1")
            .detection_status(detection)
            .timestamp(DateTime::from_secs(0))
            .build()
    }

    #[tokio::test]
    async fn detection_failed_is_exit_1_with_the_live_findings_still_reported() {
        let detect = detect();
        let failed = mock!(Cfn::describe_stack_drift_detection_status).then_output(|| {
            let mut failed = status(StackDriftDetectionStatus::DetectionFailed);
            failed.detection_status_reason = Some("resource Bucket: Access Denied".to_owned());
            failed
        });
        let (outcome, text) = check_drift(&[&detect, &failed]).await;
        assert_eq!(outcome.status, ExitStatus::Failure);
        assert_eq!(
            outcome.result["cloudformation"]["outcome"],
            "detection-failed"
        );
        assert_eq!(outcome.result["in_sync"], false);
        assert!(
            text.contains("DETECTION_FAILED): resource Bucket: Access Denied"),
            "{text}"
        );
        // The live checks ran anyway: the missing bucket is a finding.
        assert!(text.contains("(no such bucket)"), "{text}");
    }

    /// AWS failing DetectStackDrift (HTTP 500 InternalFailure, every attempt) is exit 1 with the
    /// call named, never "in sync" (virtual time drives the retries).
    #[tokio::test(start_paused = true)]
    async fn a_drift_call_that_keeps_failing_is_exit_1_not_in_sync() {
        let failing = mock!(Cfn::detect_stack_drift)
            .sequence()
            .http_status(
                500,
                Some("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>The request processing has failed because of an unknown error, exception or failure.</Message></Error><RequestId>r1</RequestId></ErrorResponse>".to_owned()),
            )
            .repeatedly()
            .build();
        let (outcome, text) =
            check_drift_of(StackStatus::CreateComplete, Some(DEPLOYMENT), &[&failing]).await;
        let error = outcome.unwrap_err();
        assert_eq!(crate::exit::status_for_error(&error), ExitStatus::Failure);
        let message = format!("{error:#}");
        assert!(
            message.contains(
                "DetectStackDrift answered HTTP 500 InternalFailure on each of 4 attempts"
            ),
            "{message}"
        );
        assert!(!text.contains("In sync"), "{text}");
        assert!(!text.contains("not available at this endpoint"), "{text}");
        assert_eq!(failing.num_calls(), 4);
    }

    #[tokio::test]
    async fn a_time_out_is_exit_1() {
        let detect = detect();
        let busy = mock!(Cfn::describe_stack_drift_detection_status)
            .then_output(|| status(StackDriftDetectionStatus::DetectionInProgress));
        let (outcome, text) = check_drift(&[&detect, &busy]).await;
        assert_eq!(outcome.status, ExitStatus::Failure);
        assert_eq!(outcome.result["cloudformation"]["outcome"], "timed-out");
        assert!(text.contains("did not finish within"), "{text}");
    }

    /// The answers agree with each other as AWS's would: the bucket was deleted behind the stack,
    /// so drift detection says DELETED and HeadBucket answers 404. (Property differences with
    /// expected and actual values are covered against a consistent state in
    /// tests/it/drift_mocks.rs.)
    #[tokio::test]
    async fn a_deleted_bucket_is_exit_3_from_cloudformation_and_the_live_checks() {
        let detect = detect();
        let drifted = mock!(Cfn::describe_stack_drift_detection_status).then_output(|| {
            let mut done = status(StackDriftDetectionStatus::DetectionComplete);
            done.stack_drift_status = Some(StackDriftStatus::Drifted);
            done.drifted_stack_resource_count = Some(1);
            done
        });
        let resources = mock!(Cfn::describe_stack_resource_drifts).then_output(|| {
            DescribeStackResourceDriftsOutput::builder()
                .stack_resource_drifts(
                    StackResourceDrift::builder()
                        .logical_resource_id("Bucket")
                        .physical_resource_id("edge-prod-b001-us-west-1-s3")
                        .resource_type("AWS::S3::Bucket")
                        .stack_resource_drift_status(StackResourceDriftStatus::Deleted)
                        .build(),
                )
                .build()
        });
        let (outcome, text) = check_drift(&[&detect, &drifted, &resources]).await;
        assert_eq!(outcome.status, ExitStatus::Differences);
        let first = &outcome.result["findings"][0];
        assert_eq!(first["source"], "cloudformation");
        assert_eq!(first["resource"], "Bucket");
        assert_eq!(first["expected"], "present");
        assert_eq!(first["actual"], "deleted");
        assert!(text.contains("(no such bucket)"), "{text}");
        assert!(text.contains("Drift detected:"), "{text}");
    }

    #[test]
    fn advice_names_the_revert_command_and_never_promises_a_plain_redeploy() {
        let deployment = naming::shared_deployment(&fixtures::shared_site()).unwrap();
        let finding = |check, source| Finding {
            check,
            resource: "Bucket".to_owned(),
            property: "VersioningConfiguration.Status".to_owned(),
            expected: "Enabled".to_owned(),
            actual: "Suspended".to_owned(),
            source,
        };
        let revert = "s3-provisioner --config site.yaml --action prep-master --revert-drift";
        let settings_only = drift_advice(
            &[finding(Check::Versioning, Source::Live)],
            &deployment,
            Some(revert),
        );
        assert_eq!(settings_only.len(), 1);
        assert!(
            settings_only[0].contains(&format!("`{revert}`")),
            "{settings_only:?}"
        );
        assert!(settings_only[0].contains("A plain redeploy does not undo them"));
        // A test deployment is not deployed by prep-master: no revert command for it.
        let test_copy = drift_advice(
            &[finding(Check::Versioning, Source::Live)],
            &deployment,
            None,
        );
        assert!(!test_copy[0].contains("--revert-drift"), "{test_copy:?}");
        assert!(test_copy[0].contains("does not reapply an unchanged template"));
        let both = drift_advice(
            &[
                finding(Check::Versioning, Source::Live),
                finding(Check::Folders, Source::Blueprint),
            ],
            &deployment,
            Some(revert),
        );
        assert_eq!(both.len(), 2);
        assert!(both[1].contains("--action prep-master --force"));
    }

    #[test]
    fn the_revert_command_is_the_users_own_invocation_with_revert_drift() {
        let config = fixtures::shared_site();
        let deployment = naming::shared_deployment(&config).unwrap();
        let mut options =
            fixtures::run_options(Action::CheckDrift, naming::MASTER_SOLUTION, Path::new("."));
        options.profile = Some("prod".to_owned());
        let (mut out, _) = fixtures::captured_output(OutputFormat::Text);
        let ctx = Ctx {
            config: &config,
            deployment: &deployment,
            options: &options,
            out: &mut out,
        };
        let command = revert_command(&ctx).unwrap();
        assert!(command.starts_with("s3-provisioner --config "), "{command}");
        assert!(
            command.ends_with(
                " --action prep-master --solution master-solution --profile prod --revert-drift"
            ),
            "{command}"
        );
        options.test_id = Some("t0a1b2c".to_owned());
        let ctx = Ctx {
            config: &config,
            deployment: &deployment,
            options: &options,
            out: &mut out,
        };
        assert_eq!(revert_command(&ctx), None);
    }
}
