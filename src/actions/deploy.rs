//! `prep-master` and `create-bucket` (docs/actions.md): deploy the shared (prep-master) or
//! dedicated (create-bucket) stack through the engine, then create the solution's missing folder
//! markers.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio::time::Instant;

use super::{Ctx, Outcome, elapsed_line};
use crate::aws::AwsClients;
use crate::aws::cfn::ResourceChange;
use crate::ops::engine::{self, DeployRequest, LookedUp, StackAction, Waits};
use crate::ops::markers::{self, BucketState};
use crate::output::Style;
use crate::template;

/// The `result` of prep-master and create-bucket.
#[derive(Debug, Serialize)]
pub struct DeployResult {
    pub stack: String,
    pub stack_status: String,
    pub stack_action: StackAction,
    pub bucket: String,
    pub solution: String,
    /// Folder markers created by this run.
    pub folders_created: Vec<String>,
    /// Folder markers that were already there.
    pub folders_already_present: usize,
    pub outputs: BTreeMap<String, String>,
    pub changes: Vec<ResourceChange>,
    pub elapsed_ms: u128,
}

/// Run prep-master or create-bucket for `ctx.deployment`; `looked_up` is what the caller read
/// of its stack and bucket name at the same time as the account check.
pub async fn run(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    looked_up: LookedUp,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let deployment = ctx.deployment;
    let template_body = template::render(ctx.config, deployment)?;
    let request = DeployRequest {
        deployment,
        template_body: &template_body,
        tags: template::stack_tags(ctx.config, deployment)
            .into_iter()
            .collect(),
        force: ctx.options.force,
        revert_drift: ctx.options.revert_drift,
    };
    // Boxed: the engine's state machine is a large future.
    let waits = Waits::for_timeout(ctx.options.timeout);
    let deployed = Box::pin(engine::deploy_from(
        ctx.out, aws, &request, waits, looked_up,
    ))
    .await?;
    let bucket = deployed.bucket_name(&deployment.bucket_name);
    let state = if matches!(
        deployed.action,
        StackAction::Created | StackAction::Recreated
    ) {
        BucketState::New
    } else {
        BucketState::Existing
    };
    let markers = markers::create_markers(
        ctx.out,
        aws,
        &bucket,
        &deployment.solution,
        state,
        ctx.options.action,
    )
    .await?;
    let result = DeployResult {
        stack: deployed.stack_name,
        stack_status: deployed.status,
        stack_action: deployed.action,
        bucket,
        solution: deployment.solution.clone(),
        folders_created: markers.created,
        folders_already_present: markers.already_present,
        outputs: deployed.outputs,
        changes: deployed.changes,
        elapsed_ms: started.elapsed().as_millis(),
    };
    print_summary(ctx, &result);
    Outcome::success(&result)
}

fn print_summary(ctx: &mut Ctx<'_>, result: &DeployResult) {
    let out = &mut *ctx.out;
    let action = ctx.options.action;
    out.result(out.paint(
        Style::Bold,
        format!("{action}: {} is ready", ctx.deployment.name),
    ));
    out.result(format!(
        "  stack    {}  {} ({})",
        result.stack,
        result.stack_status,
        result.stack_action.as_str()
    ));
    out.result(format!("  bucket   s3://{}", result.bucket));
    out.result(format!(
        "  folders  {} created, {} already present (solutions/{}/)",
        result.folders_created.len(),
        result.folders_already_present,
        result.solution
    ));
    out.result(elapsed_line(result.elapsed_ms));
}
