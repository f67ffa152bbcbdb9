//! `show-changes` (docs/actions.md): preview what deploying the current config would change,
//! without changing anything. A missing stack would be created with every resource of the template;
//! an existing one gets a change set (with property values) whose resource changes are printed with
//! the stack-tag changes and a unified diff of the deployed and the new template. The change set is
//! always deleted afterwards — on success, error and Ctrl-C alike.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde::Serialize;

use super::{Ctx, Outcome, config_arg, deploy_action};
use crate::aws::AwsClients;
use crate::aws::cfn::{
    self, ChangeAction, ChangeSetKind, ChangeSetOutcome, ChangeSetRequest, Poller, ResourceChange,
    StackInfo, StackStatus,
};
use crate::exit::ExitStatus;
use crate::ops::engine;
use crate::ops::engine::bucket_name::{self, NewBucket};
use crate::ops::engine::changes::{self, TagChange};
use crate::ops::engine::replacement;
use crate::output::Style;
use crate::template;

/// The `result` of show-changes.
#[derive(Debug, Serialize)]
pub struct ShowChangesResult {
    pub stack: String,
    /// The deployed stack's status, when there is a stack.
    pub stack_status: Option<String>,
    /// Deploying would create the stack (it is missing, or only a failed shell of it exists).
    pub would_create: bool,
    pub changes: Vec<ResourceChange>,
    pub tag_changes: Vec<TagChange>,
    /// Unified diff from the deployed to the new template (empty when equal or not deployed).
    pub template_diff: String,
    /// How the deployment record (tool version, config hash) would change, e.g.
    /// `config sha256 0123456789ab → …`; empty when the deployed one matches.
    pub record_changes: Vec<String>,
    /// Whether deploying would change anything.
    pub pending: bool,
    /// The command that applies the changes.
    pub apply_with: String,
}

/// Run show-changes.
pub async fn run(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    let deployment = ctx.deployment;
    let body = template::render(ctx.config, deployment)?;
    let tags: BTreeMap<String, String> = template::stack_tags(ctx.config, deployment)
        .into_iter()
        .collect();
    let apply_with = apply_command(ctx);

    let existing = cfn::describe_stack(&aws.cfn, &deployment.stack_name).await?;
    if let Some(stack) = &existing {
        engine::ensure_owned(stack, deployment)?;
    }
    let result = match existing {
        Some(stack) if stack.status == StackStatus::Complete => {
            // Boxed: a change-set round trip is a large future.
            Box::pin(preview_update(ctx, aws, &stack, &body, &tags, apply_with)).await?
        }
        Some(stack) if stack.status == StackStatus::InProgress => bail!(
            "stack {} is busy ({}); preview the changes once it has finished (`aws cloudformation describe-stacks --stack-name {} --region {}`)",
            stack.name,
            stack.status_name,
            stack.name,
            aws.region
        ),
        Some(stack) if stack.status == StackStatus::Failed => bail!(
            "stack {} is {}; CloudFormation cannot compute changes for it in this state. Run {apply_with} for the next step",
            stack.name,
            stack.status_name
        ),
        // Missing, or a failed shell that deploying would delete and create again.
        other => preview_create(ctx, aws, other.as_ref(), &body, apply_with).await?,
    };
    print(ctx, &result);
    let status = if result.pending && ctx.options.detailed_exitcode {
        ExitStatus::Differences
    } else {
        ExitStatus::Success
    };
    Outcome::new(status, &result)
}

/// Preview of a stack that does not exist yet: every resource of the template would be added,
/// once the bucket name passes the deploying actions' own pre-check (else the same refusal).
async fn preview_create(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    shell: Option<&StackInfo>,
    body: &str,
    apply_with: String,
) -> anyhow::Result<ShowChangesResult> {
    let deployment = ctx.deployment;
    if let Some(stack) = shell {
        ctx.out.warn(format!(
            "stack {} is {}: it holds no working deployment; deploying deletes it and creates it again",
            stack.name, stack.status_name
        ));
    }
    if ctx.options.revert_drift {
        ctx.out.warn(format!(
            "--revert-drift: stack {} holds no deployment, so nothing can have drifted; deploying creates it from the template",
            deployment.stack_name
        ));
    }
    check_bucket_name(ctx, aws).await?;
    Ok(ShowChangesResult {
        stack: deployment.stack_name.clone(),
        stack_status: shell.map(|s| s.status_name.clone()),
        would_create: true,
        changes: template_resources(body)?,
        tag_changes: Vec::new(),
        template_diff: String::new(),
        record_changes: Vec::new(),
        pending: true,
        apply_with,
    })
}

/// Preview of an update: a change set (always deleted afterwards), tag changes and the diff.
async fn preview_update(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    stack: &StackInfo,
    body: &str,
    tags: &BTreeMap<String, String>,
    apply_with: String,
) -> anyhow::Result<ShowChangesResult> {
    if bucket_name::creates_bucket(Some(stack), ctx.deployment) {
        check_bucket_name(ctx, aws).await?;
    }
    let request = ChangeSetRequest {
        stack_name: &stack.name,
        template_body: body,
        tags,
        kind: ChangeSetKind::Update,
        description: "s3-provisioner show-changes preview (deleted after reading)",
        revert_drift: ctx.options.revert_drift,
    };
    // On an error the change set is deleted before this returns; on Ctrl-C or the deadline the
    // action layer deletes it from the run's journal.
    let outcome = engine::compute_change_set(
        ctx.out,
        aws,
        &request,
        Poller::change_set(ctx.options.timeout),
    )
    .await?;
    // The preview must leave nothing behind.
    engine::discard_change_set(ctx.out, aws, outcome.handle()).await;
    let changes = match outcome {
        ChangeSetOutcome::Ready(details) => {
            replacement::refuse_bucket_replacement(aws, &details, ctx.deployment, body)
                .await
                .with_context(|| would_be_refused(ctx))?;
            details.changes
        }
        ChangeSetOutcome::NoChanges(_) => Vec::new(),
        ChangeSetOutcome::Failed { reason, .. } => bail!(
            "CloudFormation could not compute the changes for stack {}: {reason}. Nothing was changed; check the template with --action validate-prov-template",
            stack.name
        ),
    };
    let tag_changes = changes::tag_changes(&stack.tags, tags);
    let deployed = cfn::get_template(&aws.cfn, &stack.name)
        .await?
        .unwrap_or_default();
    let pending = !changes.is_empty() || !tag_changes.is_empty();
    let record_changes = record_changes(&deployed, &template::metadata(ctx.config, ctx.deployment));
    Ok(ShowChangesResult {
        stack: stack.name.clone(),
        stack_status: Some(stack.status_name.clone()),
        would_create: false,
        changes,
        tag_changes,
        template_diff: changes::template_diff(&deployed, body),
        record_changes,
        pending,
        apply_with,
    })
}

/// How the deployed template's record (tool version, config hash) differs from `new`. The
/// record is in a resource property (see [`template::deployment_record`]), so a difference is a
/// real change that deploying applies, never one CloudFormation would ignore.
fn record_changes(deployed: &str, new: &template::TemplateMetadata) -> Vec<String> {
    let Ok(old) = template::metadata_of(deployed) else {
        return vec![format!(
            "the deployed template has no S3Provisioner record; deploying records tool version {} and config sha256 {}",
            new.tool_version,
            short(&new.config_sha256)
        )];
    };
    let mut lines = Vec::new();
    if old.config_sha256 != new.config_sha256 {
        lines.push(format!(
            "config sha256 {} → {} (the config changed since it was deployed)",
            short(&old.config_sha256),
            short(&new.config_sha256)
        ));
    }
    if old.tool_version != new.tool_version {
        lines.push(format!(
            "tool version {} → {}",
            old.tool_version, new.tool_version
        ));
    }
    lines
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The deploying actions' bucket-name pre-check: a name held by a bucket this deployment does
/// not own is the same refusal (exit 4) here as there.
async fn check_bucket_name(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<()> {
    let deployment = ctx.deployment;
    let found = bucket_name::check_new_bucket(aws, deployment, None)
        .await
        .with_context(|| would_be_refused(ctx))?;
    if found == NewBucket::EmptyLeftover {
        ctx.out.warn(format!(
            "bucket {} is an empty leftover of this deployment that no stack manages; deploying deletes it (after confirmation) and creates it again",
            deployment.bucket_name
        ));
    }
    Ok(())
}

fn would_be_refused(ctx: &Ctx<'_>) -> String {
    format!(
        "show-changes: deploying ({}) would not go ahead",
        apply_command(ctx)
    )
}

/// Every resource of the template, as `Add` changes (for a stack that would be created).
fn template_resources(body: &str) -> anyhow::Result<Vec<ResourceChange>> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(rename = "Resources")]
        resources: serde_yaml::Mapping,
    }
    let doc: Doc =
        serde_yaml::from_str(body).context("reading the resources of the generated template")?;
    Ok(doc
        .resources
        .iter()
        .map(|(id, resource)| ResourceChange {
            action: ChangeAction::Add,
            logical_id: id.as_str().unwrap_or_default().to_owned(),
            resource_type: resource
                .get("Type")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_owned(),
            physical_id: None,
            replacement: None,
            details: Vec::new(),
            drift_status: None,
        })
        .collect())
}

/// The command that deploys this config's deployment (reverting drift when previewed so).
fn apply_command(ctx: &Ctx<'_>) -> String {
    format!(
        "s3-provisioner --config {} --action {} --solution {}{} --force",
        config_arg(ctx),
        deploy_action(ctx.deployment),
        ctx.deployment.solution,
        if ctx.options.revert_drift {
            " --revert-drift"
        } else {
            ""
        }
    )
}

fn print(ctx: &mut Ctx<'_>, result: &ShowChangesResult) {
    let out = &mut *ctx.out;
    if result.would_create {
        out.result(out.paint(
            Style::Bold,
            format!(
                "Stack {} does not exist; deploying would create it with:",
                result.stack
            ),
        ));
    } else if !result.pending {
        out.result(format!(
            "No changes: stack {} ({}) matches the config{}",
            result.stack,
            result.stack_status.as_deref().unwrap_or_default(),
            if ctx.options.revert_drift {
                ", and CloudFormation found no drifted property to put back"
            } else {
                ""
            }
        ));
    } else {
        out.result(out.paint(
            Style::Bold,
            format!(
                "Changes to stack {} ({}){}:",
                result.stack,
                result.stack_status.as_deref().unwrap_or_default(),
                if ctx.options.revert_drift {
                    ", drifted settings put back to the template's values included"
                } else {
                    ""
                }
            ),
        ));
    }
    for line in changes::change_lines(out, &result.changes) {
        out.result(line);
    }
    if !result.record_changes.is_empty() {
        out.result(out.paint(
            Style::Bold,
            "Deployment record changes (description of the bucket-name SSM parameter):",
        ));
        for line in &result.record_changes {
            out.result(format!("  {line}"));
        }
    }
    if !result.tag_changes.is_empty() {
        out.result(out.paint(Style::Bold, "Stack tag changes:"));
        for line in changes::tag_lines(out, &result.tag_changes) {
            out.result(line);
        }
    }
    if !result.template_diff.is_empty() {
        out.result(out.paint(Style::Bold, "Template diff (deployed → new):"));
        for line in result.template_diff.lines() {
            let style = match line.as_bytes().first() {
                Some(b'+') => Some(Style::Green),
                Some(b'-') => Some(Style::Red),
                Some(b'@') => Some(Style::Cyan),
                _ => None,
            };
            match style {
                Some(style) => out.result(out.paint(style, line)),
                None => out.result(line),
            }
        }
    }
    if result.pending {
        out.result(format!("Apply with: {}", result.apply_with));
    }
}
