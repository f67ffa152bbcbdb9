//! `deploy-solution` (docs/actions.md): add a solution's folder tree to the existing shared bucket.
//! Additive and idempotent: it only creates missing markers, never changes the stack, so it
//! needs no `--force` and can never remove or replace anything.

use anyhow::bail;
use serde::Serialize;
use tokio::time::Instant;

use super::{Ctx, Outcome, config_arg};
use crate::aws::AwsClients;
use crate::aws::cfn::{self, StackStatus};
use crate::ops::engine;
use crate::ops::markers::{self, BucketState};
use crate::output::Style;

/// The `result` of deploy-solution.
#[derive(Debug, Serialize)]
pub struct DeploySolutionResult {
    pub stack: String,
    pub bucket: String,
    pub solution: String,
    pub folders_created: Vec<String>,
    pub folders_already_present: usize,
    pub elapsed_ms: u128,
}

/// Run deploy-solution: `ctx.deployment` is the shared deployment, the run's solution (see
/// [`super::solution_for`]) the solution to add.
pub async fn run(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let deployment = ctx.deployment;
    let solution = super::solution_for(ctx.options, ctx.config)?;
    let stack_name = &deployment.stack_name;

    // 1. The shared stack must exist, be ours and be complete.
    let Some(stack) = cfn::describe_stack(&aws.cfn, stack_name).await? else {
        bail!(
            "the shared stack {stack_name} does not exist in {}, so there is no shared bucket to add {solution} to. Create it first: s3-provisioner --config {} --action prep-master --force",
            aws.region,
            config_arg(ctx)
        );
    };
    engine::ensure_owned(&stack, deployment)?;
    if stack.status != StackStatus::Complete {
        bail!(
            "the shared stack {stack_name} is {}, not complete; the folders of {solution} are added only to a working deployment. Run --action prep-master (it repairs or waits for the stack), then rerun",
            stack.status_name
        );
    }

    // 2. The bucket comes from the stack's outputs: the stack, not the config, says what exists.
    let Some(bucket) = stack.bucket_name().map(str::to_owned) else {
        bail!(
            "the shared stack {stack_name} has no BucketName output; it was not deployed by this version of s3-provisioner. Rerun --action prep-master to update it"
        );
    };

    // 3. Create the missing markers.
    let markers = markers::create_markers(
        ctx.out,
        aws,
        &bucket,
        &solution,
        BucketState::Existing,
        ctx.options.action,
    )
    .await?;
    let result = DeploySolutionResult {
        stack: stack.name,
        bucket,
        solution,
        folders_created: markers.created,
        folders_already_present: markers.already_present,
        elapsed_ms: started.elapsed().as_millis(),
    };
    let out = &mut *ctx.out;
    out.result(out.paint(
        Style::Bold,
        format!(
            "deploy-solution: {} is in s3://{}/solutions/{}/",
            result.solution, result.bucket, result.solution
        ),
    ));
    out.result(format!(
        "  folders  {} created, {} already present",
        result.folders_created.len(),
        result.folders_already_present
    ));
    Outcome::success(&result)
}
