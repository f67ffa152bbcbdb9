//! `upload-template` (docs/actions.md): regenerate the template and store it in the deployment's
//! own bucket at `_provisioner/templates/{deployment}-template.yaml`, with the tool version and the
//! config hash as object metadata, so the bucket documents how it was built. Additive: it writes
//! one object of the tool's own, needs no `--force` and changes no stack.

use std::collections::BTreeMap;

use anyhow::bail;
use serde::Serialize;

use super::{Ctx, Outcome, config_arg, deploy_action};
use crate::aws::AwsClients;
use crate::aws::cfn;
use crate::aws::s3::{self, TEMPLATE_CONTENT_TYPE};
use crate::ops::engine;
use crate::template;

/// Object metadata key holding the tool version (sent as `x-amz-meta-tool-version`).
pub const META_TOOL_VERSION: &str = "tool-version";
/// Object metadata key holding the normalised config hash.
pub const META_CONFIG_SHA256: &str = "config-sha256";

/// The `result` of upload-template.
#[derive(Debug, Serialize)]
pub struct UploadResult {
    pub bucket: String,
    pub key: String,
    pub uri: String,
    pub bytes: usize,
    pub content_type: &'static str,
    pub metadata: BTreeMap<String, String>,
    pub etag: Option<String>,
    /// Whether the uploaded template is the one the stack runs (GetTemplate). `false` means the
    /// bucket now documents changes that were never deployed.
    pub matches_deployed: bool,
    /// The command that deploys the uploaded template, when it is not the deployed one.
    pub deploy_with: Option<String>,
}

/// Run upload-template.
pub async fn run(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    let deployment = ctx.deployment;
    let body = template::render(ctx.config, deployment)?;

    // The stack must exist (and be ours): the template goes into the bucket it deployed.
    let Some(stack) = cfn::describe_stack(&aws.cfn, &deployment.stack_name).await? else {
        bail!(
            "stack {} does not exist in {}, so there is no bucket to upload the template to. Deploy it first: s3-provisioner --config {} --action {} --solution {} --force",
            deployment.stack_name,
            aws.region,
            config_arg(ctx),
            deploy_action(deployment),
            deployment.solution
        );
    };
    engine::ensure_owned(&stack, deployment)?;
    let bucket = stack
        .bucket_name()
        .unwrap_or(&deployment.bucket_name)
        .to_owned();

    let key = deployment.template_key();
    let metadata = BTreeMap::from([
        (
            META_TOOL_VERSION.to_owned(),
            crate::about::VERSION.to_owned(),
        ),
        (
            META_CONFIG_SHA256.to_owned(),
            ctx.config.normalised_sha256(),
        ),
    ]);
    let deployed = cfn::get_template(&aws.cfn, &stack.name).await?;
    let matches_deployed = deployed
        .as_deref()
        .is_some_and(|deployed| same_template(deployed, &body));
    let deploy_with = (!matches_deployed).then(|| {
        format!(
            "s3-provisioner --config {} --action show-changes --solution {}, then s3-provisioner --config {} --action {} --solution {} --force",
            config_arg(ctx),
            deployment.solution,
            config_arg(ctx),
            deploy_action(deployment),
            deployment.solution
        )
    });

    let etag = s3::put_template(&aws.s3, &bucket, &key, &body, &metadata).await?;
    let uri = format!("s3://{bucket}/{key}");
    if let Some(command) = &deploy_with {
        ctx.out.warn(format!(
            "the uploaded template differs from the one stack {} runs: its changes are not deployed. Review and deploy them with {command}",
            stack.name
        ));
    }
    ctx.out.result(format!("upload-template: uploaded {uri}"));
    ctx.out.result(format!(
        "  {} bytes, {TEMPLATE_CONTENT_TYPE}, {META_TOOL_VERSION}={}, {META_CONFIG_SHA256}={}",
        body.len(),
        metadata[META_TOOL_VERSION],
        metadata[META_CONFIG_SHA256]
    ));
    Outcome::success(&UploadResult {
        bucket,
        key,
        uri,
        bytes: body.len(),
        content_type: TEMPLATE_CONTENT_TYPE,
        metadata,
        etag,
        matches_deployed,
        deploy_with,
    })
}

/// Whether two template texts say the same (YAML and JSON, short and long intrinsic forms
/// alike); byte equality when either cannot be read.
fn same_template(deployed: &str, new: &str) -> bool {
    match (template::yaml::parse(deployed), template::yaml::parse(new)) {
        (Ok(deployed), Ok(new)) => deployed == new,
        _ => deployed == new,
    }
}
