//! `prep-master` and `create-bucket` (SPEC §9): deploy the shared (prep-master) or dedicated
//! (create-bucket) stack through the engine, then create the solution's missing folder markers.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio::time::Instant;

use super::engine::{self, DeployRequest, Deployed, StackAction, Waits};
use super::{Ctx, Outcome, elapsed_line};
use crate::aws::AwsClients;
use crate::aws::cfn::{self, ResourceChange};
use crate::aws::s3::{self, MarkerReport};
use crate::output::Style;
use crate::{blueprint, template};

/// Marker PutObjects in flight at once: enough to hide latency, far below S3's per-prefix limits.
pub const MARKER_CONCURRENCY: usize = 16;

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

/// Run prep-master or create-bucket for `ctx.deployment`; `existing` is the deployment's stack
/// as the caller described it (at the same time as the account check).
pub async fn run(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    existing: Option<cfn::StackInfo>,
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
    let deployed = Box::pin(engine::deploy_from(ctx.out, aws, &request, waits, existing)).await?;
    let bucket = bucket_of(&deployed, &deployment.bucket_name);
    // A bucket this run's stack just created holds no marker yet: no listing needed (the puts
    // are conditional, so a marker someone made meanwhile is still never overwritten).
    let new_bucket = matches!(
        deployed.action,
        StackAction::Created | StackAction::Recreated
    );
    let markers = create_markers_in(ctx, aws, &bucket, &deployment.solution, new_bucket).await?;
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

/// The bucket the stack reports (`BucketName` output), or the derived name before outputs exist.
pub fn bucket_of(deployed: &Deployed, derived: &str) -> String {
    deployed
        .outputs
        .get(cfn::BUCKET_NAME_OUTPUT)
        .cloned()
        .unwrap_or_else(|| derived.to_owned())
}

/// Create the missing folder markers of `solution` in `bucket`, with a progress line.
pub async fn create_markers(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    bucket: &str,
    solution: &str,
) -> anyhow::Result<MarkerReport> {
    create_markers_in(ctx, aws, bucket, solution, false).await
}

/// [`create_markers`]; `new_bucket`: the bucket was created by this run, so nothing is listed.
async fn create_markers_in(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    bucket: &str,
    solution: &str,
    new_bucket: bool,
) -> anyhow::Result<MarkerReport> {
    let keys = blueprint::marker_keys(solution);
    aws.journal.step(format!(
        "creating the folders of {solution} in s3://{bucket}/{}",
        blueprint::solution_prefix(solution)
    ));
    aws.journal.progress(|| {
        "folder markers created so far are kept; the rerun creates only the missing ones".to_owned()
    });
    ctx.out.info(
        format!(
            "Creating the folders of {solution} in s3://{bucket}/{}",
            blueprint::solution_prefix(solution)
        ),
        &[("folders", &keys.len())],
    );
    let backoff = crate::aws::error::Backoff::BULK;
    let created = if new_bucket {
        s3::put_markers(&aws.s3, bucket, &keys, 0, MARKER_CONCURRENCY, backoff).await
    } else {
        s3::create_missing_markers(&aws.s3, bucket, &keys, MARKER_CONCURRENCY, backoff).await
    };
    if created.is_ok() {
        aws.journal
            .step(format!("finishing {}", ctx.options.action));
    }
    created
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
