//! The actions (SPEC §9): the one `match` from [`Action`] to the function that carries it out,
//! the options every action receives, and the deployment each action works on.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::aws::{AwsClients, AwsOptions};
use crate::cli::Action;
use crate::config::ValidConfig;
use crate::exit::ExitStatus;
use crate::naming::{Deployment, Pattern};
use crate::output::Output;

mod applicability;
mod check_drift;
mod create_policy;
mod create_prov_template;
mod deploy;
mod deploy_solution;
pub mod engine;
mod select;
mod show_changes;
mod tear_down;
mod test_deploy;
mod upload_template;
mod validate_config;
mod validate_prov_template;

pub use applicability::{OPTION_ACTIONS, check_options};
pub use select::{check_fleet, deployment_for, deployment_for_run, solution_for};

/// The four working directories (SPEC §2).
#[derive(Debug, Clone)]
pub struct Dirs {
    pub configs: PathBuf,
    pub templates: PathBuf,
    pub policies: PathBuf,
    pub reports: PathBuf,
}

/// Everything from the command line an action may need, free of clap types.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub action: Action,
    /// `--solution`, `None` when not given (then the config's `solution:` key or
    /// `master-solution` decides; see [`solution_for`]).
    pub solution: Option<String>,
    pub force: bool,
    pub dirs: Dirs,
    pub profile: Option<String>,
    /// Maximum wait for one stack operation.
    pub timeout: Duration,
    /// show-changes: exit 3 when changes are pending.
    pub detailed_exitcode: bool,
    /// test-deploy: keep the test deployment.
    pub keep: bool,
    /// tear-down, check-drift: the suffix of a test deployment to work on (hidden `--test-id`).
    pub test_id: Option<String>,
}

/// What one action works with.
pub struct Ctx<'a> {
    pub config: &'a ValidConfig,
    pub deployment: &'a Deployment,
    pub options: &'a RunOptions,
    pub out: &'a mut Output,
}

/// How an action ended: its exit status and its result document (the `result` field of the JSON
/// output and the `.json` report).
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub result: serde_json::Value,
}

impl Outcome {
    /// An outcome with `status` and a typed result.
    pub fn new(status: ExitStatus, result: &impl Serialize) -> anyhow::Result<Self> {
        Ok(Outcome {
            status,
            result: serde_json::to_value(result)?,
        })
    }

    /// A successful outcome.
    pub fn success(result: &impl Serialize) -> anyhow::Result<Self> {
        Self::new(ExitStatus::Success, result)
    }
}

/// Run `ctx.options.action`. This is the only place that maps an action to its code.
pub async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<Outcome> {
    match ctx.options.action {
        Action::ValidateConfig => validate_config::run(ctx),
        Action::CreateProvTemplate => create_prov_template::run(ctx),
        Action::ValidateProvTemplate => validate_prov_template::run(ctx),
        Action::CreatePolicy => create_policy::run(ctx),
        Action::ShowChanges => {
            let aws = connect(ctx).await?;
            show_changes::run(ctx, &aws).await
        }
        Action::CheckDrift => {
            let aws = connect(ctx).await?;
            check_drift::run(ctx, &aws).await
        }
        Action::UploadTemplate => {
            let aws = connect(ctx).await?;
            upload_template::run(ctx, &aws).await
        }
        Action::PrepMaster | Action::CreateBucket => {
            let aws = connect(ctx).await?;
            deploy::run(ctx, &aws).await
        }
        Action::DeploySolution => {
            let aws = connect(ctx).await?;
            deploy_solution::run(ctx, &aws).await
        }
        Action::TestDeploy => {
            let aws = connect(ctx).await?;
            test_deploy::run(ctx, &aws).await
        }
        Action::TearDown => {
            let aws = connect(ctx).await?;
            tear_down::run(ctx, &aws).await
        }
    }
}

/// The action that deploys (creates or updates) `deployment`: prep-master for the shared bucket,
/// create-bucket for a dedicated one.
pub fn deploy_action(deployment: &Deployment) -> Action {
    match deployment.pattern {
        Pattern::Shared => Action::PrepMaster,
        Pattern::Dedicated => Action::CreateBucket,
    }
}

/// The `--config` value that names this config in a suggested command: the bare file name when
/// it lives in the configs dir (as in the seed guide), else its path.
pub fn config_arg(ctx: &Ctx<'_>) -> String {
    let source = &ctx.config.source;
    match source.file_name() {
        Some(name) if source.parent() == Some(ctx.options.dirs.configs.as_path()) => {
            name.to_string_lossy().into_owned()
        }
        _ => source.display().to_string(),
    }
}

/// The `elapsed` line that ends a deploying or tearing-down action's summary.
fn elapsed_line(elapsed_ms: u128) -> String {
    #[allow(clippy::cast_precision_loss)] // Milliseconds of one run fit an f64 exactly.
    let seconds = elapsed_ms as f64 / 1000.0;
    format!("  elapsed  {seconds:.1} s")
}

/// The first steps of every AWS action (SPEC §9): clients for the config's region, then the
/// account check, before anything else is read or changed.
async fn connect(ctx: &mut Ctx<'_>) -> anyhow::Result<AwsClients> {
    let aws = AwsClients::connect(&AwsOptions {
        region: ctx.config.environment.region.clone(),
        profile: ctx.options.profile.clone(),
    })
    .await;
    let caller = aws.verify_account(&ctx.config.client.account_id).await?;
    ctx.out.debug(
        "AWS account verified",
        &[
            ("account", &ctx.config.client.account_id),
            ("caller", &caller),
        ],
    );
    Ok(aws)
}
