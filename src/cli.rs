//! The command line, as clap derive types. This module owns parsing only: it turns argv into a
//! [`Cli`] (or a document generated from the clap definition itself: shell completions, the man
//! page) and never reaches into the engine. `lib::run` converts a [`Cli`] into typed options.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
pub use clap_complete::Shell;

/// Exit codes, printed at the end of `--help` (and documented in the README).
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success; in sync; no changes
  1    runtime failure: AWS error, stack operation failed, I/O error
  2    usage error, invalid config or template (nothing was changed)
  3    drift detected (check-drift); changes pending (show-changes --detailed-exitcode)
  4    refused for safety: --force needed, wrong AWS account, resource not owned by this tool
  130  interrupted (Ctrl-C)";

/// `--keep-reports` default: a few weeks of daily runs of one action on one deployment, enough to
/// look back at what happened, while `reports/` stays bounded.
pub const DEFAULT_KEEP_REPORTS: usize = 20;

/// Turn one YAML file per site into a secure, ML-ready S3 bucket deployed with CloudFormation,
/// and keep it healthy.
#[derive(Debug, Parser)]
#[command(name = "s3-provisioner", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Site config: a bare name is looked up in the configs dir, a path (with `/`) is used as is.
    /// Repeat it or give a glob ('edge-prod-*.yaml') to run over a fleet.
    #[arg(long, value_name = "FILE", required = true)]
    pub config: Vec<String>,

    /// What to do.
    #[arg(long, value_enum, value_name = "ACTION")]
    pub action: Action,

    /// The solution; decides the deployment (master-solution = the shared bucket). Default: the
    /// config's `solution:` key, else master-solution.
    #[arg(long, value_name = "NAME")]
    pub solution: Option<String>,

    /// Allow creating, replacing or deleting infrastructure without asking.
    #[arg(long)]
    pub force: bool,

    /// Result format on stdout.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Where site configs live (only read, never written).
    #[arg(
        long,
        value_name = "DIR",
        env = "S3P_CONFIGS_DIR",
        default_value = "configs"
    )]
    pub configs_dir: PathBuf,

    /// Where generated CloudFormation templates are written.
    #[arg(
        long,
        value_name = "DIR",
        env = "S3P_TEMPLATES_DIR",
        default_value = "templates"
    )]
    pub templates_dir: PathBuf,

    /// Where generated IAM policies are written.
    #[arg(
        long,
        value_name = "DIR",
        env = "S3P_POLICIES_DIR",
        default_value = "policies"
    )]
    pub policies_dir: PathBuf,

    /// Where run reports (.log and .json) are written.
    #[arg(
        long,
        value_name = "DIR",
        env = "S3P_REPORTS_DIR",
        default_value = "reports"
    )]
    pub reports_dir: PathBuf,

    /// Keep only the newest N report pairs per deployment and action (0 keeps all).
    #[arg(
        long,
        value_name = "N",
        env = "S3P_KEEP_REPORTS",
        default_value_t = DEFAULT_KEEP_REPORTS
    )]
    pub keep_reports: usize,

    /// AWS profile (default: the standard AWS credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Deadline of an AWS action for one config, in seconds: every wait and request ends by
    /// then (exit 1, naming what did not answer).
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub timeout: u64,

    /// How many configs of a fleet run at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,

    /// Fleet runs: run only the K-th of N parts of the configs selected (1 ≤ K ≤ N), the same
    /// part on every machine, so N machines can share a fleet (see docs/fleets.md).
    #[arg(long, value_name = "K/N", value_parser = clap::value_parser!(crate::shard::Shard))]
    pub shard: Option<crate::shard::Shard>,

    /// For each config, work as IAM role NAME in the config's account
    /// (arn:aws:iam::ACCOUNT:role/NAME), assumed once per account from the base credentials.
    #[arg(
        long,
        value_name = "NAME",
        env = "S3P_ROLE_NAME",
        hide_env_values = true
    )]
    pub role_name: Option<String>,

    /// The external id the role's trust policy requires (with --role-name).
    #[arg(
        long,
        value_name = "ID",
        env = "S3P_EXTERNAL_ID",
        requires = "role_name",
        hide_env_values = true
    )]
    pub external_id: Option<String>,

    /// show-changes: exit 3 when changes are pending.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// test-deploy: keep the test deployment and print the command that removes it.
    #[arg(long)]
    pub keep: bool,

    /// prep-master, create-bucket: also put settings changed outside CloudFormation (drift) back
    /// to the template's values, through a drift-aware change set; show-changes: preview that.
    #[arg(long)]
    pub revert_drift: bool,

    /// tear-down and check-drift: work on the test deployment with this suffix (t + 6 hex, as
    /// printed by `test-deploy --keep`) instead of the real deployment.
    #[arg(long, value_name = "ID", hide = true)]
    pub test_id: Option<String>,

    /// Never use colour (NO_COLOR is honoured too; colour is only used on a terminal).
    #[arg(long)]
    pub no_color: bool,

    /// More detail on stderr (repeat for debug logs).
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only results and errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the completion script for SHELL on stdout and exit (needs no other option).
    #[arg(long, value_enum, value_name = "SHELL", exclusive = true)]
    pub completions: Option<Shell>,

    /// Print the man page (roff) on stdout and exit (needs no other option).
    #[arg(long, exclusive = true)]
    pub man_page: bool,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Run an action over one config or a fleet.
    Run(Box<Cli>),
    /// Print a document generated from this command-line definition and exit 0.
    Print(String),
}

/// Parse the process's arguments. `--completions` and `--man-page` stand alone (clap's
/// `exclusive` lifts the required `--config`/`--action` for them), so they are answered from the
/// raw matches before the matches become a [`Cli`], which needs an action. Usage errors, `--help`
/// and `--version` exit here, as `Cli::parse` would.
pub fn parse() -> Invocation {
    parse_from(std::env::args_os()).unwrap_or_else(|error| error.exit())
}

/// [`parse`] over the given arguments (the first is the program name).
pub fn parse_from<I, T>(args: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut command = Cli::command();
    let mut matches = command.try_get_matches_from_mut(args)?;
    if let Some(shell) = matches.get_one::<Shell>("completions").copied() {
        return Ok(Invocation::Print(completion_script(shell)));
    }
    if matches.get_flag("man_page") {
        return Ok(Invocation::Print(man_page()));
    }
    Cli::from_arg_matches_mut(&mut matches)
        .map(|cli| Invocation::Run(Box::new(cli)))
        .map_err(|error| error.format(&mut command))
}

/// The completion script for `shell`, generated from the clap definition (so it always offers
/// exactly the options and the twelve actions this build accepts).
pub fn completion_script(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, crate::about::TOOL, &mut script);
    String::from_utf8_lossy(&script).into_owned()
}

/// The man page, `s3-provisioner(1)` in roff, generated from the clap definition, with the exit
/// codes and environment variables as sections of their own (instead of `--help`'s trailer).
pub fn man_page() -> String {
    let command = Cli::command();
    let man = clap_mangen::Man::new(command.clone()).manual("S3 Provisioner");
    let mut page = Vec::new();
    for render in [
        clap_mangen::Man::render_title,
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
        clap_mangen::Man::render_options_section,
    ] {
        render(&man, &mut page).expect("rendering into memory cannot fail");
    }
    let mut page = String::from_utf8_lossy(&page).into_owned();
    let mut add = |text: String| page.push_str(&text);
    add(".SH \"EXIT STATUS\"\n".to_owned());
    for line in EXIT_CODES_HELP.lines().skip(1) {
        let (code, meaning) = line.trim().split_once(' ').unwrap_or((line, ""));
        add(format!(
            ".TP\n\\fB{code}\\fR\n{}\n",
            roff_text(meaning.trim())
        ));
    }
    add(".SH ENVIRONMENT\n".to_owned());
    for arg in command.get_arguments() {
        if let Some(var) = arg.get_env() {
            add(format!(
                ".TP\n\\fB{}\\fR\nThe default of \\fB\\-\\-{}\\fR.\n",
                var.to_string_lossy(),
                roff_text(arg.get_long().unwrap_or_default())
            ));
        }
    }
    for (var, meaning) in ENVIRONMENT_HELP {
        add(format!(".TP\n\\fB{var}\\fR\n{}\n", roff_text(meaning)));
    }
    add(format!(
        ".SH VERSION\n{}\n",
        roff_text(command.get_version().unwrap_or_default())
    ));
    page
}

/// Variables the tool reads besides the options' own (`S3P_*_DIR`), for the man page.
const ENVIRONMENT_HELP: &[(&str, &str)] = &[
    (
        "AWS_PROFILE",
        "The AWS profile when --profile is not given; credentials come from the standard AWS chain.",
    ),
    (
        "AWS_ENDPOINT_URL",
        "Send every AWS call to this endpoint instead of AWS (a local emulator such as moto or LocalStack).",
    ),
    ("NO_COLOR", "When set and not empty, never use colour."),
    ("RUST_LOG", "Diagnostic log filter; overrides -v."),
];

/// `text` as a roff text line: backslashes and hyphens escaped, no leading control character.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The twelve actions. Each variant's doc line is its `--help` description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Action {
    /// Parse and check the config; print derived names and settings
    ValidateConfig,
    /// Write the CloudFormation template to the templates dir
    CreateProvTemplate,
    /// Check the written template: well-formed, secure, not stale
    ValidateProvTemplate,
    /// Write the least-privilege operator IAM policy to the policies dir
    CreatePolicy,
    /// Preview what deploying the current config would change (read-only)
    ShowChanges,
    /// Compare the deployed stack and live bucket with the config (read-only)
    CheckDrift,
    /// Upload the generated template into the bucket for reference
    UploadTemplate,
    /// Create or update the shared bucket and its master-solution folders (needs --force)
    PrepMaster,
    /// Add a solution's folder tree to the existing shared bucket
    DeploySolution,
    /// Create or update a dedicated bucket for one solution (needs --force)
    CreateBucket,
    /// Deploy an isolated copy with a random suffix, verify it, clean it up
    TestDeploy,
    /// Empty the bucket (all versions), delete the stack and the bucket (needs --force)
    TearDown,
}

impl Action {
    /// The action's name as typed on the command line (`validate-config`).
    pub fn name(self) -> &'static str {
        match self {
            Action::ValidateConfig => "validate-config",
            Action::CreateProvTemplate => "create-prov-template",
            Action::ValidateProvTemplate => "validate-prov-template",
            Action::CreatePolicy => "create-policy",
            Action::ShowChanges => "show-changes",
            Action::CheckDrift => "check-drift",
            Action::UploadTemplate => "upload-template",
            Action::PrepMaster => "prep-master",
            Action::DeploySolution => "deploy-solution",
            Action::CreateBucket => "create-bucket",
            Action::TestDeploy => "test-deploy",
            Action::TearDown => "tear-down",
        }
    }

    /// Whether the action talks to AWS (and so needs credentials and the account check).
    pub fn uses_aws(self) -> bool {
        !matches!(
            self,
            Action::ValidateConfig
                | Action::CreateProvTemplate
                | Action::ValidateProvTemplate
                | Action::CreatePolicy
        )
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `--output`: text for people, json for scripts (defined with [`crate::output`], which renders it).
pub use crate::output::OutputFormat;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn action_names_match_clap_values() {
        for action in Action::value_variants() {
            let value = action.to_possible_value().expect("every action is visible");
            assert_eq!(value.get_name(), action.name());
        }
        assert_eq!(Action::value_variants().len(), 12);
    }
}
