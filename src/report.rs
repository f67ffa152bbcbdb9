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
        // create_new_unsynced's errors name the file already.
        if create_new_unsynced(&log, log_text.as_bytes())? == Created::NameTaken {
            continue;
        }
        match create_new_unsynced(&json, json_text.as_bytes()) {
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

/// Delete all but the newest `keep` report pairs of `deployment` and `action` in `dir` (`keep` 0:
/// keep all); returns how many files were deleted. Only names of exactly the form [`write()`]
/// produces are touched (`{deployment}-{action}-{stamp}[-N].log|.json`), never another
/// deployment's, another action's or any other file. Newest is by the name's timestamp and
/// suffix, not the file time. A file another run deleted first is not an error.
pub fn prune(dir: &Path, deployment: &str, action: &str, keep: usize) -> anyhow::Result<usize> {
    if keep == 0 {
        return Ok(0);
    }
    let prefix = format!("{deployment}-{action}-");
    let listing =
        std::fs::read_dir(dir).with_context(|| format!("listing reports in {}", dir.display()))?;
    let mut runs: Vec<((String, u32), Vec<PathBuf>)> = Vec::new();
    for entry in listing {
        let entry = entry.with_context(|| format!("listing reports in {}", dir.display()))?;
        let file_name = entry.file_name();
        let Some(key) = file_name
            .to_str()
            .and_then(|name| name.strip_prefix(&prefix))
            .and_then(run_key)
        else {
            continue;
        };
        match runs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, paths)) => paths.push(entry.path()),
            None => runs.push((key, vec![entry.path()])),
        }
    }
    runs.sort_by(|(a, _), (b, _)| b.cmp(a));
    let mut deleted = 0;
    for path in runs.iter().skip(keep).flat_map(|(_, paths)| paths) {
        match std::fs::remove_file(path) {
            Ok(()) => deleted += 1,
            // A concurrent run pruned it first.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("deleting old report {}", path.display()));
            }
        }
    }
    Ok(deleted)
}

/// `(stamp, suffix)` of a report name after its `{deployment}-{action}-` prefix:
/// `yyyymmddThhmmssZ[-N].log|.json`, or `None` for anything else.
fn run_key(rest: &str) -> Option<(String, u32)> {
    let stem = rest
        .strip_suffix(".log")
        .or_else(|| rest.strip_suffix(".json"))?;
    let (stamp, suffix) = match stem.split_at_checked(16) {
        Some((stamp, "")) => (stamp, 1),
        Some((stamp, more)) => {
            let digits = more.strip_prefix('-')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (stamp, digits.parse().ok()?)
        }
        None => return None,
    };
    let bytes = stamp.as_bytes();
    let is_stamp = bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8]
            .iter()
            .chain(&bytes[9..15])
            .all(u8::is_ascii_digit);
    is_stamp.then(|| (stamp.to_owned(), suffix))
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

    #[test]
    fn prune_keeps_the_newest_pairs_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "dep-prep-master-20261129T040506Z.log",
            "dep-prep-master-20261129T040506Z.json",
            "dep-prep-master-20261129T040506Z-2.log",
            "dep-prep-master-20261129T040506Z-2.json",
            "dep-prep-master-20261129T040506Z-10.log",
            "dep-prep-master-20261129T040506Z-10.json",
            "dep-prep-master-20261130T000000Z.log",
            "dep-prep-master-20261130T000000Z.json",
            // Not this deployment's, not this action's, not the tool's: never touched.
            "dep-b-prep-master-20261101T000000Z.log",
            "dep-tear-down-20261101T000000Z.log",
            "dep-prep-master-20261101T000000Z.log.bak",
            "dep-prep-master-20261101T000000Z-x.log",
            "dep-prep-master-notes.txt",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(prune(dir.path(), "dep", "prep-master", 2).unwrap(), 4);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "dep-b-prep-master-20261101T000000Z.log",
                "dep-prep-master-20261101T000000Z-x.log",
                "dep-prep-master-20261101T000000Z.log.bak",
                "dep-prep-master-20261129T040506Z-10.json",
                "dep-prep-master-20261129T040506Z-10.log",
                "dep-prep-master-20261130T000000Z.json",
                "dep-prep-master-20261130T000000Z.log",
                "dep-prep-master-notes.txt",
                "dep-tear-down-20261101T000000Z.log",
            ]
        );
        assert_eq!(prune(dir.path(), "dep", "prep-master", 0).unwrap(), 0);
        assert_eq!(prune(dir.path(), "dep", "prep-master", 2).unwrap(), 0);
    }
}
