//! Fleet runs: one action over many configs with bounded concurrency, each run's
//! output buffered and printed whole, then one summary table and the worst exit status.

use std::path::PathBuf;

use futures_util::StreamExt;

use crate::actions::RunOptions;
use crate::exit::ExitStatus;
use crate::output::OutputFormat;
use crate::output::{Output, OutputSettings};
use crate::run::{RunRecord, run_one};

/// Run `options.action` for every config, at most `parallel` at once.
pub async fn run(
    configs: &[PathBuf],
    options: &RunOptions,
    settings: OutputSettings,
    parallel: usize,
) -> ExitStatus {
    let mut terminal = Output::to_terminal(settings);
    // After Ctrl-C no further config is started; the ones running stop and report.
    let mut runs = futures_util::stream::iter(configs.iter().enumerate())
        .take_while(|_| std::future::ready(!options.interrupts.is_interrupted()))
        .map(|(index, config)| async move {
            let (mut out, captured) = Output::for_fleet_run(settings);
            let record = run_one(config, options, &mut out).await;
            (index, record, captured)
        })
        .buffer_unordered(parallel.max(1));
    let mut records: Vec<(usize, RunRecord)> = Vec::with_capacity(configs.len());
    while let Some((index, record, captured)) = runs.next().await {
        if settings.format == OutputFormat::Text {
            let stdout = captured.stdout();
            let stderr = captured.stderr();
            terminal.stderr_line(&format!("── {} ──", record.config.display()));
            for line in stderr.lines() {
                terminal.stderr_line(line);
            }
            for line in stdout.lines() {
                terminal.print_document(line);
            }
        }
        records.push((index, record));
    }
    records.sort_by_key(|(index, _)| *index);
    let not_started = configs.len() - records.len();
    if not_started > 0 {
        terminal.warn(format!(
            "interrupted: {not_started} of {} config(s) were not started; rerun the same command to run them (every action is safe to run again on the configs that finished)",
            configs.len()
        ));
    }
    let worst = records
        .iter()
        .map(|(_, r)| r.status)
        .chain((not_started > 0).then_some(ExitStatus::Interrupted))
        .max_by_key(|s| s.severity())
        .unwrap_or(ExitStatus::Success);
    match settings.format {
        OutputFormat::Text => {
            terminal.print_document(&summary_table(&records));
        }
        OutputFormat::Json => {
            let documents: Vec<serde_json::Value> = records
                .iter()
                .map(|(_, r)| serde_json::from_str(&r.document).unwrap_or(serde_json::Value::Null))
                .collect();
            let fleet = serde_json::json!({
                "format_version": crate::run::RESULT_FORMAT_VERSION,
                "runs": documents,
                "exit_code": worst.code(),
            });
            terminal.print_document(&serde_json::to_string_pretty(&fleet).unwrap_or_default());
        }
    }
    worst
}

fn summary_table(records: &[(usize, RunRecord)]) -> String {
    use std::fmt::Write as _;
    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|(_, r)| {
            [
                r.config.display().to_string(),
                r.deployment.clone().unwrap_or_else(|| "-".into()),
                format!("{} ({})", status_word(r.status), r.status.code()),
                format!("{:.2}s", r.elapsed.as_secs_f64()),
            ]
        })
        .collect();
    let header = ["CONFIG", "DEPLOYMENT", "RESULT", "TIME"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(table, "{}", line.join("  ").trim_end());
    }
    table.trim_end().to_owned()
}

fn status_word(status: ExitStatus) -> &'static str {
    match status {
        ExitStatus::Success => "ok",
        ExitStatus::Failure => "failed",
        ExitStatus::Usage => "invalid",
        ExitStatus::Differences => "differences",
        ExitStatus::Refused => "refused",
        ExitStatus::Interrupted => "interrupted",
    }
}
