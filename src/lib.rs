//! S3 Provisioner: one YAML file per site → a secure, consistently named, ML-ready S3 bucket
//! deployed through AWS CloudFormation, kept healthy.
//!
//! Layers (arrows point to what a layer may use): `cli` → `actions` → {`config`, `naming`,
//! `template`, `policy`, `aws`}; `template` and `policy` → `config`. Generators are pure and
//! synchronous; only `aws` talks to AWS; only [`output::Output`] writes to the terminal.

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
pub mod naming;
pub mod output;
pub mod ownership;
pub mod policy;
pub mod report;
pub mod stop;
pub mod template;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::actions::{Ctx, Dirs, Outcome, RunOptions};
use crate::cli::{Cli, OutputFormat};
use crate::exit::{ExitStatus, UsageError};
use crate::naming::Deployment;
use crate::output::{Output, OutputSettings, Style};

/// Tool name and version, as recorded in templates and reports.
pub const TOOL: &str = "s3-provisioner";
/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The shape of the JSON result documents (`--output json`, the `.json` reports, the fleet
/// document), described by `docs/result.schema.json` and `docs/results.md`. Bumped when a field
/// is removed, renamed or changes type or meaning, or a status value is added or removed; adding a field
/// or an action-specific `result` member does not bump it.
pub const RESULT_FORMAT_VERSION: u32 = 1;

/// Run the command line: one config, or a fleet of them. Never panics on bad input; every
/// failure is reported on stderr (and in the report) and becomes the returned exit status.
pub async fn run(cli: Cli) -> ExitStatus {
    let options = run_options(&cli, stop::Interrupts::install(output::notice));
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
    // The output's shape follows how configs were asked for, not how many matched: a glob or a
    // repeated --config is a fleet run (a summary, `{"runs": [...]}`) even when it finds one file.
    if let ([spec], [config]) = (cli.config.as_slice(), configs.as_slice())
        && !is_glob(spec)
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
        test_id: cli.test_id.clone(),
        keep_reports: cli.keep_reports,
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

/// What one config's run produced.
pub struct RunRecord {
    pub config: PathBuf,
    pub deployment: Option<String>,
    pub status: ExitStatus,
    pub elapsed: Duration,
    /// The JSON result document (also written as the `.json` report).
    pub document: String,
}

/// The JSON result document of one run: the same in `--output json` and the `.json` report.
#[derive(Serialize)]
struct ResultDocument<'a> {
    tool: &'static str,
    format_version: u32,
    version: &'static str,
    action: &'static str,
    config: String,
    solution: &'a str,
    deployment: Option<&'a Deployment>,
    status: ExitStatus,
    exit_code: u8,
    started_at: String,
    elapsed_ms: u128,
    warnings: Vec<WarningDocument>,
    result: Option<serde_json::Value>,
    error: Option<ErrorDocument>,
}

/// One warning the run printed: a config warning carries the key it is about (`key_path`); a
/// warning raised while the action ran has only its `message`.
#[derive(Serialize)]
struct WarningDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    key_path: Option<String>,
    message: String,
}

#[derive(Serialize)]
struct ErrorDocument {
    message: String,
    problems: Vec<crate::config::Problem>,
}

/// Run the action for one config file, writing output to `out` and the report pair.
pub async fn run_one(config_path: &Path, options: &RunOptions, out: &mut Output) -> RunRecord {
    let started = OffsetDateTime::now_utc();
    let timer = Instant::now();
    let mut warnings = Vec::new();
    let mut deployment = None;
    let mut solution = options
        .solution
        .clone()
        .unwrap_or_else(|| naming::MASTER_SOLUTION.to_owned());
    let result = async {
        let config = crate::config::load(config_path)?;
        let earlier = out.take_warnings();
        for warning in &config.warnings {
            out.warn(format!(
                "{}: {}: {}",
                config_path.display(),
                warning.key_path,
                warning.message
            ));
        }
        // Listed in the document with their key path, not again as printed lines.
        out.take_warnings();
        warnings.extend(earlier.into_iter().map(|message| WarningDocument {
            key_path: None,
            message,
        }));
        warnings.extend(config.warnings.iter().map(|w| WarningDocument {
            key_path: Some(w.key_path.clone()),
            message: w.message.clone(),
        }));
        solution = actions::solution_for(options, &config)?;
        let chosen = actions::deployment_for_run(options, &config)?;
        deployment = Some(chosen.clone());
        let mut ctx = Ctx {
            config: &config,
            deployment: &chosen,
            options,
            out: &mut *out,
        };
        actions::run(&mut ctx).await
    }
    .await;
    let (status, result, error) = match result {
        Ok(Outcome { status, result }) => (status, Some(result), None),
        Err(error) => {
            let status = exit::status_for_error(&error);
            let message = format!("{error:#}");
            if error
                .chain()
                .any(<dyn std::error::Error>::is::<exit::NotConfirmed>)
            {
                // The person's answer: an outcome, not an error.
                out.result(&message);
            } else {
                out.error(&message);
            }
            // The SDK's own account of an AWS failure, for `-v`.
            if let Some(aws) = error
                .chain()
                .find_map(|cause| cause.downcast_ref::<aws::error::AwsError>())
            {
                out.debug(
                    "AWS error details",
                    &[("operation", &aws.operation), ("chain", &aws.details)],
                );
            }
            let problems = error
                .chain()
                .find_map(|cause| cause.downcast_ref::<crate::config::Error>())
                .map(|e| e.problems().to_vec())
                .unwrap_or_default();
            (status, None, Some(ErrorDocument { message, problems }))
        }
    };
    warnings.extend(
        out.take_warnings()
            .into_iter()
            .map(|message| WarningDocument {
                key_path: None,
                message,
            }),
    );
    let elapsed = timer.elapsed();
    let document = ResultDocument {
        tool: TOOL,
        format_version: RESULT_FORMAT_VERSION,
        version: VERSION,
        action: options.action.name(),
        config: config_path.display().to_string(),
        solution: &solution,
        deployment: deployment.as_ref(),
        status,
        exit_code: status.code(),
        started_at: started.format(&Rfc3339).unwrap_or_default(),
        elapsed_ms: elapsed.as_millis(),
        warnings,
        result,
        error,
    };
    let document = serde_json::to_string_pretty(&document).expect("result documents serialise");
    let report_name = deployment.as_ref().map_or_else(
        || {
            config_path
                .file_stem()
                .map_or_else(|| "config".to_owned(), |s| s.to_string_lossy().into_owned())
        },
        |d| d.name.clone(),
    );
    match report::write(
        &options.dirs.reports,
        &report_name,
        options.action.name(),
        started,
        out.log_lines(),
        &document,
    ) {
        Ok(paths) => {
            let line = out.paint(
                Style::Dim,
                format!("report: {}", output::shown_path(&paths.log)),
            );
            out.stderr_line(&line);
            // After this run's own pair is written, so it always counts among the newest.
            let dir = &options.dirs.reports;
            let action = options.action.name();
            match report::prune(dir, &report_name, action, options.keep_reports) {
                Ok(0) => {}
                Ok(deleted) => out.debug(
                    format!(
                        "deleted {deleted} old report files (--keep-reports {})",
                        options.keep_reports
                    ),
                    &[],
                ),
                Err(error) => out.warn(format!(
                    "{error:#}; old reports were not pruned (the run's result is unaffected)"
                )),
            }
        }
        Err(error) => out.warn(format!("{error:#}; the run's result is unaffected")),
    }
    RunRecord {
        config: config_path.to_owned(),
        deployment: deployment.map(|d| d.name),
        status,
        elapsed,
        document,
    }
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
