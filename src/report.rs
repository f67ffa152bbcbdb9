//! Run reports: `reports/{deployment}-{action}-{UTC yyyymmddThhmmssZ}.log`, one line per
//! event (`TIMESTAMP LEVEL message key=value…`), and beside it the `.json` result document that
//! `--output json` prints. Both are written atomically and created exclusively: a report is never
//! half-written and never replaces another run's. Never holds credentials: only what went
//! through [`crate::output::Output`] is written, and nothing there carries secrets.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::fsutil::{Created, create_new_unsynced};
use crate::output::LogLine;

/// The two files written for one run.
#[derive(Debug, Clone)]
pub struct ReportPaths {
    pub log: PathBuf,
    pub json: PathBuf,
}

/// Write the `.log` and `.json` reports of one run into `dir`; returns their paths.
pub fn write(
    dir: &Path,
    deployment: &str,
    action: &str,
    started: OffsetDateTime,
    lines: &[LogLine],
    document: &str,
) -> anyhow::Result<ReportPaths> {
    let stamp = started
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .context("formatting the report timestamp")?;
    let base = format!("{deployment}-{action}-{stamp}");
    let log_text = render_log(lines);
    let json_text = format!("{document}\n");
    // Two runs in the same second (fleets, scripts, concurrent runs) must not overwrite each
    // other's reports. Each name is taken by an exclusive create, never by checking first: the
    // `.log` claims the name, then the `.json` beside it; if a stray `.json` already holds that
    // name, the `.log` just created is removed again and the next suffix is tried.
    for n in 1..=u32::MAX {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let log = dir.join(format!("{name}.log"));
        let json = dir.join(format!("{name}.json"));
        if create_new_unsynced(&log, log_text.as_bytes())
            .with_context(|| format!("writing report {}", log.display()))?
            == Created::NameTaken
        {
            continue;
        }
        match create_new_unsynced(&json, json_text.as_bytes())
            .with_context(|| format!("writing report {}", json.display()))
        {
            Ok(Created::Written) => return Ok(ReportPaths { log, json }),
            Ok(Created::NameTaken) => {
                std::fs::remove_file(&log)
                    .with_context(|| format!("removing report {}", log.display()))?;
            }
            Err(error) => {
                let _ = std::fs::remove_file(&log);
                return Err(error);
            }
        }
    }
    anyhow::bail!(
        "no unused report file name is left for {base} in {}",
        dir.display()
    )
}

/// `TIMESTAMP LEVEL message key=value…`, one event per line; multi-line messages are indented.
pub fn render_log(lines: &[LogLine]) -> String {
    let mut text = String::new();
    for line in lines {
        let at = line.at.format(&Rfc3339).unwrap_or_default();
        let message = line.message.replace('\n', "\n    ");
        let _ = write!(text, "{at} {} {message}", line.level.as_str());
        for (key, value) in &line.fields {
            if value.contains(char::is_whitespace) {
                let _ = write!(text, " {key}={value:?}");
            } else {
                let _ = write!(text, " {key}={value}");
            }
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Level;

    #[test]
    fn writes_a_pair_with_the_spec_names_and_levels() {
        let dir = tempfile::tempdir().unwrap();
        let started = time::macros::datetime!(2026-11-29 04:05:06 UTC);
        let lines = vec![LogLine {
            at: started,
            level: Level::Error,
            message: "stack failed".into(),
            fields: vec![
                ("stack".into(), "s-stack".into()),
                ("reason".into(), "a b".into()),
            ],
        }];
        let paths = write(dir.path(), "dep", "prep-master", started, &lines, "{}").unwrap();
        assert!(paths.log.ends_with("dep-prep-master-20261129T040506Z.log"));
        assert_eq!(
            std::fs::read_to_string(&paths.log).unwrap(),
            "2026-11-29T04:05:06Z ERROR stack failed stack=s-stack reason=\"a b\"\n"
        );
        let second = write(dir.path(), "dep", "prep-master", started, &lines, "{}").unwrap();
        assert!(
            second
                .json
                .ends_with("dep-prep-master-20261129T040506Z-2.json")
        );
    }
}
