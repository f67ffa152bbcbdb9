//! `check-drift` (SPEC §9): compare the deployed stack and the live bucket with the config, in
//! three steps — CloudFormation's own drift detection, the tool's live check of the bucket and its
//! SSM parameters, and the solution folder blueprint — and print one table of findings.
//!
//! Exit 0 in sync, 3 on any drift. CloudFormation detection that fails (`DETECTION_FAILED`) or
//! times out is exit 1 (the check is incomplete), still with every live finding reported. An
//! endpoint without drift detection (local emulators) is said once and the live checks go on.
//! Read-only: nothing is changed.

use serde::Serialize;

use super::{Ctx, Outcome};
use crate::aws::AwsClients;
use crate::aws::cfn::{self, Poller};
use crate::aws::drift::{StackDriftOutcome, detect_stack_drift};
use crate::aws::live;
use crate::config::ValidConfig;
use crate::drift::{self, Check, CheckResult, Finding, compare, expected};
use crate::exit::ExitStatus;
use crate::naming::Deployment;
use crate::output::Style;
use crate::template;

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
    findings.extend(live_findings(aws, ctx.config, deployment).await?);
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
            "{} {} finding(s) in {} ({}). Either update the config to match and regenerate, or restore the intended state with --action {} --force (missing folders: --action deploy-solution)",
            ctx.out.paint(Style::Red, "Drift detected:"),
            findings.len(),
            deployment.name,
            drifted.join(", "),
            deploy_action(deployment),
        );
        ctx.out.result(line);
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

/// The action that (re)deploys `deployment`.
fn deploy_action(deployment: &Deployment) -> &'static str {
    match deployment.pattern {
        crate::naming::Pattern::Shared => "prep-master",
        crate::naming::Pattern::Dedicated => "create-bucket",
    }
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

/// The live checks (steps 2 and 3 of check-drift), shared with `test-deploy`: the bucket's settings
/// and SSM parameters against the template built from `config`, and the blueprint markers of every
/// solution present under `solutions/` plus the deployment's own solution.
pub(super) async fn live_findings(
    aws: &AwsClients,
    config: &ValidConfig,
    deployment: &Deployment,
) -> anyhow::Result<Vec<Finding>> {
    let expected = expected::expected(&template::build(config, deployment), deployment);
    let mut findings = Vec::new();
    if live::bucket_exists(&aws.s3, &expected.bucket_name).await? {
        let (state, mut solutions) = tokio::try_join!(
            live::read_bucket(&aws.s3, &expected.bucket_name),
            live::solutions(&aws.s3, &expected.bucket_name),
        )?;
        findings.extend(compare::compare_bucket(&expected.bucket, &state));
        if !solutions.contains(&deployment.solution) {
            solutions.push(deployment.solution.clone());
            solutions.sort();
        }
        let wanted = compare::wanted_markers(&solutions);
        let present = live::existing_keys(&aws.s3, &expected.bucket_name, &wanted).await?;
        findings.extend(compare::compare_folders(&solutions, &present));
    } else {
        findings.push(compare::missing_bucket(&expected.bucket_name));
    }
    let parameters = live::read_parameters(&aws.ssm, &expected.parameters).await?;
    findings.extend(compare::compare_parameters(
        &expected.parameters,
        &parameters,
    ));
    Ok(findings)
}
