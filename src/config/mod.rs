//! The site config (SPEC §3): reading, parsing and validating a YAML file into a [`ValidConfig`].
//!
//! Two stages: the YAML is parsed into a tree that remembers the line and column of every key and
//! value, then validated into the typed model, collecting *every* problem (with its position, key
//! path, bad value, rule and fix) instead of stopping at the first. Errors here are always exit 2.

mod model;

pub use model::*;

use std::path::{Path, PathBuf};

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// 1-based line of the offending key or value (0 when the problem concerns the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted key path, e.g. `client.account_id` (empty for whole-file problems).
    pub key_path: String,
    /// The offending value as written, when there is one.
    pub value: Option<String>,
    /// The rule that was broken.
    pub rule: String,
    /// How to fix it.
    pub fix: String,
}

/// Why a config could not be used. Always exit 2; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not exist.
    #[error("config file {} not found; {hint}", path.display())]
    NotFound { path: PathBuf, hint: String },
    /// The file exists but could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read and broke one or more rules.
    #[error("{}", render_problems(path, problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

impl Error {
    /// The individual problems (empty for read errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    use std::fmt::Write as _;
    let mut text = format!(
        "config {} has {} problem{}:",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        let _ = write!(
            text,
            "\n  {}:{}:{}: ",
            path.display(),
            problem.line,
            problem.column
        );
        if !problem.key_path.is_empty() {
            let _ = write!(text, "{}: ", problem.key_path);
        }
        if let Some(value) = &problem.value {
            let _ = write!(text, "{value:?}: ");
        }
        let _ = write!(text, "{}", problem.rule);
        if !problem.fix.is_empty() {
            let _ = write!(text, "\n      fix: {}", problem.fix);
        }
    }
    text
}

/// Read, parse and validate the config file at `path`.
pub fn load(path: &Path) -> Result<ValidConfig, Error> {
    let _ = path;
    unimplemented!("config::load lands with issue 2")
}
