//! One config's run: load and validate it, pick the deployment, run the action, and write the
//! result document (`--output json`, the `.json` report) and the report pair. Single runs and
//! fleets (`fleet`) both go through [`run_one`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::about::{TOOL, VERSION};
use crate::actions::{self, Ctx, Outcome, RunOptions};
use crate::exit::{self, ExitStatus};
use crate::naming::{self, Deployment};
use crate::output::{self, Output, Style};
use crate::{aws, report};

/// The shape of the JSON result documents (`--output json`, the `.json` reports, the fleet
/// document), described by `docs/result.schema.json` and `docs/results.md`. Bumped when a field
/// is removed, renamed or changes type or meaning, or a status value is added or removed; adding a field
/// or an action-specific `result` member does not bump it.
pub const RESULT_FORMAT_VERSION: u32 = 1;

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
    // Tokio's clock, so a run on a paused (simulated) runtime reports its virtual time.
    let timer = tokio::time::Instant::now();
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
    let mut result_document = ResultDocument {
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
    let mut document =
        serde_json::to_string_pretty(&result_document).expect("result documents serialise");
    let report_name = deployment.as_ref().map_or_else(
        || {
            config_path
                .file_stem()
                .map_or_else(|| "config".to_owned(), |s| s.to_string_lossy().into_owned())
        },
        |d| d.name.clone(),
    );
    let late_warning = match report::write(
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
                Ok(0) => None,
                Ok(deleted) => {
                    out.debug(
                        format!(
                            "deleted {deleted} old report files (--keep-reports {})",
                            options.keep_reports
                        ),
                        &[],
                    );
                    None
                }
                Err(error) => Some(format!(
                    "{error:#}; old reports were not pruned (the run's result is unaffected)"
                )),
            }
        }
        Err(error) => Some(format!(
            "no report was written: {error:#}. The run's result is unaffected; to keep reports, point --reports-dir (or S3P_REPORTS_DIR) at a writable directory"
        )),
    };
    if let Some(message) = late_warning {
        // Printed on stderr after the document was rendered, so it belongs in the printed
        // document's warnings too (report files written before it do not hold it).
        out.warn(&message);
        out.take_warnings();
        result_document.warnings.push(WarningDocument {
            key_path: None,
            message,
        });
        document =
            serde_json::to_string_pretty(&result_document).expect("result documents serialise");
    }
    RunRecord {
        config: config_path.to_owned(),
        deployment: deployment.map(|d| d.name),
        status,
        elapsed,
        document,
    }
}
