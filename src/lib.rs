//! S3 Provisioner: one YAML file per site → a secure, consistently named, ML-ready S3 bucket
//! deployed through AWS CloudFormation, kept healthy.
//!
//! # Layers
//!
//! `main` parses the command line ([`cli`]) and calls [`run()`];
//! [`run()`] runs one config ([`run::run_one`]) or a fleet of them; [`actions`] hold one module per
//! `--action`; below them the domain (config, names, ownership, template, policy, drift) and the
//! AWS calls ([`aws`]). Generators are pure and synchronous; only `aws` talks to AWS; only
//! [`output::Output`] writes to the terminal; only [`exit`] turns errors into exit codes.
//!
//! Each module may use only the modules of its row (a test, `layering`, scans every `use crate::…`,
//! `crate::…` and `super::…` path under `src/` against this table; test code may use anything):
//!
//! | module | may use |
//! |---|---|
//! | `about`, `blueprint`, `fsutil`, `ownership`, `shard`, `stop`, `text` | — |
//! | `naming` | `text` |
//! | `config` | `blueprint`, `naming`, `text` |
//! | `exit` | `config`, `naming` |
//! | `output` | `exit`, `text` |
//! | `report` | `fsutil`, `output` |
//! | `template` | `about`, `blueprint`, `config`, `naming`, `ownership` |
//! | `policy` | `config`, `naming` |
//! | `drift` | `blueprint`, `naming`, `template` |
//! | `aws` | `about`, `blueprint`, `drift`, `exit`, `ownership` |
//! | `cli` | `about`, `output`, `shard` |
//! | `ops` | `aws`, `blueprint`, `config`, `drift`, `exit`, `naming`, `output`, `ownership`, `template` |
//! | `actions` | `about`, `aws`, `blueprint`, `cli`, `config`, `drift`, `exit`, `fsutil`, `naming`, `ops`, `output`, `ownership`, `policy`, `stop`, `template` |
//! | `run` | `about`, `actions`, `aws`, `config`, `exit`, `naming`, `output`, `report` |
//! | `fleet` | `actions`, `exit`, `output`, `run` |
//!
//! The edges worth a word: `exit` knows the config's and naming's error types, to map them to
//! exit 2; `aws` raises `exit`'s typed refusals (wrong account, unusable profile) and fills in
//! `drift`'s data types; `actions` take the action list ([`cli::Action`]) from `cli`, never the
//! parsed command line; `cli` re-exports `output`'s [`output::OutputFormat`] for `--output`.

pub mod about;
pub mod actions;
pub mod aws;
pub mod blueprint;
pub mod cli;
pub mod config;
pub mod drift;
pub mod exit;
#[cfg(test)]
pub(crate) mod fixtures;
mod fleet;
pub mod fsutil;
#[cfg(test)]
mod layering;
pub mod naming;
pub mod ops;
pub mod output;
pub mod ownership;
pub mod policy;
pub mod report;
pub mod run;
pub mod shard;
pub mod stop;
pub mod template;
pub mod text;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::about::{TOOL, VERSION};
use crate::actions::{Dirs, RunOptions};
use crate::cli::Cli;
use crate::exit::{ExitStatus, UsageError};
use crate::output::{Output, OutputFormat, OutputSettings};
pub use crate::run::{RESULT_FORMAT_VERSION, RunRecord, run_one};

/// Run the command line: one config, or a fleet of them. Never panics on bad input; every
/// failure is reported on stderr (and in the report) and becomes the returned exit status.
pub async fn run(cli: Cli) -> ExitStatus {
    run_with(cli, Injected::default()).await
}

/// What [`run_with`] uses instead of the real parts, so that tests and the fleet simulation
/// (`examples/fleet_sim.rs`) run the same code paths against a simulated AWS.
#[derive(Default)]
pub struct Injected {
    /// Answers every AWS request instead of the network.
    pub http_client: Option<aws_smithy_runtime_api::client::http::SharedHttpClient>,
    /// Paces CloudFormation calls, one budget per account.
    pub cfn_limits: aws::cfn::limit::CallLimits,
    /// The cache `--role-name` assumes roles through (tests pass one whose STS answers come
    /// from mocks).
    pub roles: aws::role::RoleCache,
}

/// [`run()`] with the parts `injected` gives.
pub async fn run_with(cli: Cli, injected: Injected) -> ExitStatus {
    let mut options = run_options(&cli, stop::Interrupts::install(output::notice));
    options.http_client = injected.http_client;
    options.cfn_limits = injected.cfn_limits;
    options.role = cli.role_name.clone().map(|name| aws::role::RoleSpec {
        name,
        external_id: cli.external_id.clone(),
        cache: injected.roles,
    });
    let settings = OutputSettings {
        format: cli.output,
        no_color: cli.no_color,
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    if let Err(error) = actions::check_options(&options) {
        Output::to_terminal(settings).error(error.to_string());
        return ExitStatus::Usage;
    }
    let configs = match resolve_configs(&cli.config, &options.dirs.configs) {
        Ok(configs) => configs,
        Err(error) => {
            let mut out = Output::to_terminal(settings);
            out.error(format!("{error:#}"));
            return ExitStatus::Usage;
        }
    };
    let configs = match cli.shard {
        Some(shard) => {
            let selected = configs.len();
            let part = shard.select(configs, &options.dirs.configs);
            Output::to_terminal(settings).info(
                format!(
                    "shard {shard}: {} of the {selected} config(s) selected",
                    part.len()
                ),
                &[],
            );
            part
        }
        None => configs,
    };
    // The output's shape follows how configs were asked for, not how many matched: a glob or a
    // repeated --config is a fleet run (a summary, `{"runs": [...]}`) even when it finds one file,
    // and so is every sharded run.
    if let ([spec], [config]) = (cli.config.as_slice(), configs.as_slice())
        && !is_glob(spec)
        && cli.shard.is_none()
    {
        let mut out = Output::to_terminal(settings);
        let record = run_one(config, &options, &mut out).await;
        if out.format() == OutputFormat::Json {
            out.print_document(&record.document);
        }
        return record.status;
    }
    if let Err(error) = actions::check_fleet(&options, &configs) {
        Output::to_terminal(settings).error(error.to_string());
        return ExitStatus::Usage;
    }
    fleet::run(&configs, &options, settings, usize::from(cli.parallel)).await
}

fn run_options(cli: &Cli, interrupts: stop::Interrupts) -> RunOptions {
    RunOptions {
        action: cli.action,
        solution: cli.solution.clone(),
        force: cli.force,
        dirs: Dirs {
            configs: cli.configs_dir.clone(),
            templates: cli.templates_dir.clone(),
            policies: cli.policies_dir.clone(),
            reports: cli.reports_dir.clone(),
        },
        profile: cli.profile.clone(),
        timeout: Duration::from_secs(cli.timeout),
        interrupts,
        detailed_exitcode: cli.detailed_exitcode,
        keep: cli.keep,
        revert_drift: cli.revert_drift,
        test_id: cli.test_id.clone(),
        keep_reports: cli.keep_reports,
        role: None,
        cfn_limits: aws::cfn::limit::CallLimits::default(),
        http_client: None,
    }
}

/// Turn `--config` values into files: a bare name is looked up in the configs dir, a value with
/// `/` is a path; either may be a glob. A glob that matches nothing is a usage error.
pub fn resolve_configs(specs: &[String], configs_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for spec in specs {
        let path = if spec.contains('/') {
            PathBuf::from(spec)
        } else {
            configs_dir.join(spec)
        };
        if !is_glob(spec) {
            files.push(path);
            continue;
        }
        let pattern = path.to_string_lossy();
        let mut matches: Vec<PathBuf> = glob::glob(&pattern)
            .map_err(|e| {
                UsageError(format!(
                    "--config {}: invalid glob: {e}",
                    output::shown(spec)
                ))
            })?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matches.is_empty() {
            return Err(UsageError(format!(
                "--config {}: no config file matches {}; check the pattern and --configs-dir",
                output::shown(spec),
                output::shown(&pattern)
            ))
            .into());
        }
        matches.sort();
        files.extend(matches);
    }
    // A config named twice (`--config a.yaml --config '*.yaml'`) runs once, in first-seen order.
    let mut seen = std::collections::HashSet::new();
    files.retain(|file| seen.insert(file.clone()));
    Ok(files)
}

/// Whether a `--config` value is a glob (and so names a fleet, however many files it matches).
fn is_glob(spec: &str) -> bool {
    spec.contains(['*', '?', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_named_twice_runs_once_in_first_seen_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.yaml", "b.yaml"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let specs = ["b.yaml".to_owned(), "*.yaml".to_owned()];
        let files = resolve_configs(&specs, dir.path()).unwrap();
        assert_eq!(
            files,
            [dir.path().join("b.yaml"), dir.path().join("a.yaml")]
        );
    }
}
