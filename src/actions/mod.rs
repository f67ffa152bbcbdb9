//! The actions (docs/actions.md): the one `match` from [`Action`] to the function that carries it
//! out, the options every action receives, and the deployment each action works on.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::aws::cfn::limit::CallLimits;
use crate::aws::{AwsClients, AwsOptions};
use crate::cli::Action;
use crate::config::ValidConfig;
use crate::exit::ExitStatus;
use crate::naming::{Deployment, Pattern};
use crate::ops::engine::LookedUp;
use crate::output::Output;
use crate::stop::{Interrupts, Stop};

mod applicability;
mod check_drift;
mod create_policy;
mod create_prov_template;
mod deploy;
mod deploy_solution;
mod select;
mod show_changes;
mod stopped;
mod tear_down;
mod test_deploy;
mod upload_template;
mod validate_config;
mod validate_prov_template;

pub use applicability::{OPTION_ACTIONS, check_options};
pub use select::{check_fleet, deployment_for, deployment_for_run, solution_for};

/// The four working directories (README "Run it").
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
    /// `--timeout`: the deadline of an AWS action for one config (every wait and request in it
    /// ends by then).
    pub timeout: Duration,
    /// Ctrl-C, as seen by this process (tests pass [`Interrupts::never`]).
    pub interrupts: Interrupts,
    /// show-changes: exit 3 when changes are pending.
    pub detailed_exitcode: bool,
    /// test-deploy: keep the test deployment.
    pub keep: bool,
    /// prep-master, create-bucket: deploy through a drift-aware change set that also puts
    /// settings changed outside CloudFormation back; show-changes: preview that.
    pub revert_drift: bool,
    /// tear-down, check-drift: the suffix of a test deployment to work on (hidden `--test-id`).
    pub test_id: Option<String>,
    /// How many report pairs of this deployment and action to keep (0: all).
    pub keep_reports: usize,
    /// `--role-name` (with `--external-id`): the role each config's account is worked in.
    pub role: Option<crate::aws::role::RoleSpec>,
    /// The CloudFormation call budget of each account, shared by every run of the process.
    pub cfn_limits: CallLimits,
    /// Where AWS requests go instead of the network (the fleet simulation); `None` in normal use.
    pub http_client: Option<SharedHttpClient>,
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
        _ => run_aws(ctx).await,
    }
}

/// An AWS action: clients for the config's region, then the account check, then the action —
/// all of it bounded by the action's deadline (`--timeout`) and Ctrl-C. When either comes first
/// the work is abandoned where it stands, what is safe is cleaned up (a change set that was
/// never executed, and the empty stack it made), and the error says what state things are in and
/// the command that resumes ([`stopped`]).
async fn run_aws(ctx: &mut Ctx<'_>) -> anyhow::Result<Outcome> {
    let aws = AwsClients::connect(&AwsOptions {
        region: ctx.config.environment.region.clone(),
        profile: ctx.options.profile.clone(),
        role: ctx
            .options
            .role
            .as_ref()
            .map(|spec| crate::aws::AssumedRole {
                spec: spec.clone(),
                account_id: ctx.config.client.account_id.clone(),
                deployment: ctx.deployment.name.clone(),
            }),
        cfn_limiter: Some(
            ctx.options
                .cfn_limits
                .for_account(&ctx.config.client.account_id),
        ),
        http_client: ctx.options.http_client.clone(),
    })
    .await?;
    let stop = Stop::new(ctx.options.interrupts.clone(), ctx.options.timeout);
    let finished = {
        let work = std::pin::pin!(run_action(ctx, &aws));
        stop.run(work).await
    };
    let result = match finished {
        Ok(result) => result.map_err(|error| stopped::name_endpoint(error, &aws)),
        Err(reason) => Err(stopped::clean_up_and_explain(ctx, &aws, reason).await),
    };
    // What the run asked of AWS, for the report: an audit trail of the calls made with the
    // operator's credentials (the policy test checks `create-policy` grants every one).
    let operations = aws.journal.operations_sent().join(",");
    ctx.out
        .debug("AWS operations sent", &[("operations", &operations)]);
    result
}

/// Run AWS action `ctx.options.action` with `aws` rather than clients of its own, after the same
/// account check, without the deadline and Ctrl-C handling of [`run`]: for tests whose clients
/// answer partly from mocks (what no emulator does) and partly from an emulator.
pub async fn run_with_clients(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    run_action(ctx, aws).await
}

/// The one `match` from an AWS action to its code, each after the account check: nothing that
/// changes AWS runs before it has passed.
async fn run_action(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    if matches!(
        ctx.options.action,
        Action::PrepMaster | Action::CreateBucket
    ) {
        // The stack lookup and the bucket-name check's HeadBucket change nothing, so they run at
        // the same time as the account check (two round trips less before a deployment
        // starts); nothing they read is acted on before the check has passed.
        let stack_name = ctx.deployment.stack_name.clone();
        let bucket_name = ctx.deployment.bucket_name.clone();
        let (verified, existing, bucket) = tokio::join!(
            verify_account(ctx, aws),
            crate::aws::cfn::describe_stack(&aws.cfn, &stack_name),
            // Boxed: a third SDK request future side by side would make every caller's future
            // huge.
            Box::pin(crate::aws::s3::head_bucket(&aws.s3, &bucket_name)),
        );
        verified?;
        let looked_up = LookedUp {
            stack: existing?,
            // An error here is asked again, with its context, where the answer is needed.
            bucket: bucket.ok(),
        };
        return deploy::run(ctx, aws, looked_up).await;
    }
    verify_account(ctx, aws).await?;
    match ctx.options.action {
        Action::ShowChanges => show_changes::run(ctx, aws).await,
        Action::CheckDrift => check_drift::run(ctx, aws).await,
        Action::UploadTemplate => upload_template::run(ctx, aws).await,
        Action::DeploySolution => deploy_solution::run(ctx, aws).await,
        Action::TestDeploy => test_deploy::run(ctx, aws).await,
        Action::TearDown => tear_down::run(ctx, aws).await,
        Action::PrepMaster | Action::CreateBucket => unreachable!("deployed above"),
        Action::ValidateConfig
        | Action::CreateProvTemplate
        | Action::ValidateProvTemplate
        | Action::CreatePolicy => unreachable!("local actions never reach the AWS dispatch"),
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

/// The first step of every AWS action: the account check, before anything else is read or
/// changed.
async fn verify_account(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<()> {
    let caller = aws.verify_account(&ctx.config.client.account_id).await?;
    ctx.out.debug(
        "AWS account verified",
        &[
            ("account", &ctx.config.client.account_id),
            ("caller", &caller),
        ],
    );
    Ok(())
}

/// The command that runs this action on this config again: what a stopped run prints to resume
/// (every AWS action is idempotent, so running it again finishes the work).
pub fn rerun_command(ctx: &Ctx<'_>) -> String {
    use std::fmt::Write as _;
    let mut command = format!(
        "s3-provisioner --config {} --action {}",
        shell_word(&config_arg(ctx)),
        ctx.options.action
    );
    // As given: without --solution the config's own `solution:` (or the default) applies again.
    if let Some(solution) = &ctx.options.solution {
        let _ = write!(command, " --solution {}", shell_word(solution));
    }
    if let Some(test_id) = &ctx.options.test_id {
        let _ = write!(command, " --test-id {test_id}");
    }
    if let Some(profile) = &ctx.options.profile {
        let _ = write!(command, " --profile {}", shell_word(profile));
    }
    if ctx.options.revert_drift {
        command.push_str(" --revert-drift");
    }
    if let Some(role) = &ctx.options.role {
        let _ = write!(command, " --role-name {}", shell_word(&role.name));
        if let Some(id) = &role.external_id {
            let _ = write!(command, " --external-id {}", shell_word(id));
        }
    }
    if ctx.options.force {
        command.push_str(" --force");
    }
    command
}

/// `text` quoted for a POSIX shell when it needs it.
pub fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
