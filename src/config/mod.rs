//! The site config (docs/config.md): reading, parsing and validating a YAML file into a
//! [`ValidConfig`].
//!
//! Two stages: the YAML is parsed into a tree that remembers the line and column of every key and
//! value (`yaml`), then validated into the typed model (`validate`, with the per-value rules in
//! `rules`), collecting *every* problem (with its position, key path, bad value, rule and fix)
//! instead of stopping at the first. Errors here are always exit 2.
//!
//! Hostile input is bounded before it is parsed: files over [`MAX_CONFIG_BYTES`] are refused by
//! their size (and reading stops there, for files that lie about it), bytes must be UTF-8, and
//! anchors and aliases are refused outright (see `yaml`), so nothing is ever expanded.

pub mod json;
pub mod lifecycle;
mod model;
pub mod regions;
mod rules;
#[cfg(test)]
mod tests;
mod validate;
mod yaml;

/// The validated model, built only by validation.
pub use model::ValidConfig;
pub use model::{Client, Env, Environment, LifecyclePreset, S3Settings, VpcSettings, Warning};
/// The limits and key tables of the rules, for the config reference and schema tests.
pub use rules::{MAX_USER_TAGS, TAG_KEY_MAX, TAG_VALUE_MAX, TOOL_TAG_PREFIX};
pub use validate::key_paths;

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::text::shown_path;

/// Largest config file accepted. A real config is under 1 KiB; the limit only stops accidents
/// (a wrong file) and hostile input from costing time or memory.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

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

impl Problem {
    /// A problem at a position in the file.
    pub(crate) fn at(
        pos: yaml::Pos,
        key_path: impl Into<String>,
        value: Option<String>,
        rule: impl Into<String>,
        fix: impl Into<String>,
    ) -> Problem {
        Problem {
            line: pos.line,
            column: pos.column,
            key_path: key_path.into(),
            value,
            rule: rule.into(),
            fix: fix.into(),
        }
    }

    /// A problem with the whole file (line and column 0).
    pub fn whole_file(rule: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem::at(yaml::Pos::default(), "", None, rule, fix)
    }
}

/// Why a config could not be used. Always exit 2; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not exist.
    #[error("config file {} not found; {hint}", shown_path(path))]
    NotFound { path: PathBuf, hint: String },
    /// The file exists but could not be read.
    #[error(
        "cannot read config file {}: {source}; check that it is a readable file",
        shown_path(path)
    )]
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
    // A garbage file can break thousands of rules; the first ones are what matters.
    const SHOWN: usize = 50;
    let file = shown_path(path);
    let mut text = format!(
        "config {file} has {} problem{}:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems.iter().take(SHOWN) {
        if problem.line == 0 {
            let _ = write!(text, "\n  {file}: ");
        } else {
            let _ = write!(text, "\n  {file}:{}:{}: ", problem.line, problem.column);
        }
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
    if problems.len() > SHOWN {
        let _ = write!(
            text,
            "\n  … and {} more problems (the JSON output lists them all); fix the ones above first",
            problems.len() - SHOWN
        );
    }
    text
}

/// Read, parse and validate the config file at `path`.
pub fn load(path: &Path) -> Result<ValidConfig, Error> {
    let bytes = read(path)?;
    from_bytes(path, &bytes)
}

/// Parse and validate config bytes; `source` names the file in messages. Never panics.
pub fn from_bytes(source: &Path, bytes: &[u8]) -> Result<ValidConfig, Error> {
    let invalid = |problems| Error::Invalid {
        path: source.to_owned(),
        problems,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return Err(invalid(vec![not_utf8(bytes, &error)])),
    };
    let parsed = yaml::parse(text);
    let Some(root) = parsed.root else {
        return Err(invalid(parsed.problems));
    };
    match validate::validate(source, &root) {
        Ok(config) if parsed.problems.is_empty() => Ok(config),
        Ok(_) => Err(invalid(parsed.problems)),
        Err(mut problems) => {
            problems.extend(parsed.problems);
            validate::sort(&mut problems);
            Err(invalid(problems))
        }
    }
}

/// The file's bytes, refusing a missing file (with a hint), anything but a regular file (a
/// directory, FIFO, device or socket, without opening it) and anything over [`MAX_CONFIG_BYTES`]
/// before reading it all.
fn read(path: &Path) -> Result<Vec<u8>, Error> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let too_big = |size: u64| Error::Invalid {
        path: path.to_owned(),
        problems: vec![Problem::whole_file(
            format!(
                "the file is {size} bytes, over the {MAX_CONFIG_BYTES}-byte (1 MiB) limit for a config"
            ),
            "a config is a few dozen lines; check that --config names the right file",
        )],
    };
    // The file type is checked before the file is opened: opening a FIFO for reading blocks until
    // a writer appears (forever, in a script), and a device or socket is never a config.
    let not_found = || Error::NotFound {
        path: path.to_owned(),
        hint: not_found_hint(path),
    };
    match std::fs::metadata(path) {
        Ok(metadata) => refuse_non_regular(path, &metadata)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(error) => return Err(read_error(error)),
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(error) => return Err(read_error(error)),
    };
    // Checked again on the open file, in case the path was replaced in between.
    let metadata = file.metadata().map_err(read_error)?;
    refuse_non_regular(path, &metadata)?;
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(too_big(metadata.len()));
    }
    // `take` also bounds a file that grows while it is read.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// A config must be a regular file (or a symlink to one): say what `path` is instead.
fn refuse_non_regular(path: &Path, metadata: &std::fs::Metadata) -> Result<(), Error> {
    let Some(kind) = file_kind(metadata.file_type()) else {
        return Ok(());
    };
    Err(Error::Invalid {
        path: path.to_owned(),
        problems: vec![Problem::whole_file(
            format!("is {kind}, not a config file"),
            "pass a .yaml file: --config NAME.yaml (looked up in --configs-dir) or --config path/to/NAME.yaml",
        )],
    })
}

/// What a non-regular file is, in words (`None` for a regular file).
fn file_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
    }
    if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_file() {
        None
    } else {
        Some("not a regular file")
    }
}

/// Where the first invalid byte is, as line:column of the valid text before it.
fn not_utf8(bytes: &[u8], error: &std::str::Utf8Error) -> Problem {
    let offset = error.valid_up_to();
    let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
    let pos = yaml::line_column(valid, offset);
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    let fix = if utf16 {
        "the file looks like UTF-16; save it as UTF-8"
    } else {
        "save the file as UTF-8 (or remove the binary content at this position)"
    };
    Problem::at(
        pos,
        "",
        None,
        format!(
            "the file is not valid UTF-8: byte 0x{:02X} at byte offset {offset}",
            bytes.get(offset).copied().unwrap_or_default()
        ),
        fix,
    )
}

/// What to say when the config file is missing: the configs next to it, or how paths work.
fn not_found_hint(path: &Path) -> String {
    const SHOWN: usize = 20;
    const HOW: &str = "a bare --config NAME is looked up in --configs-dir (default ./configs, or $S3P_CONFIGS_DIR); a value containing `/` is used as a path";
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(listing) = std::fs::read_dir(dir) else {
        return format!(
            "directory {} does not exist or cannot be read; run from the folder holding configs/ or pass --configs-dir. {HOW}",
            shown_path(dir)
        );
    };
    let mut names: Vec<String> = listing
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            Path::new(name)
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return format!("{} holds no .yaml configs. {HOW}", shown_path(dir));
    }
    let wanted = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
    let suggestion = rules::did_you_mean(&wanted, &candidates)
        .map(|name| format!("did you mean {name}? "))
        .unwrap_or_default();
    let mut list = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        let _ = write!(list, ", … ({} in all)", names.len());
    }
    format!("{suggestion}configs in {}/: {list}. {HOW}", shown_path(dir))
}

/// The shared-bucket example site, `configs/edge-prod-b001-us-west-1-s3.yaml`, read through
/// validation like any config, for unit tests anywhere in the crate.
#[cfg(test)]
pub(crate) fn example() -> ValidConfig {
    const SOURCE: &str = "configs/edge-prod-b001-us-west-1-s3.yaml";
    let yaml = include_str!("../../configs/edge-prod-b001-us-west-1-s3.yaml");
    from_bytes(Path::new(SOURCE), yaml.as_bytes()).expect("the example config is valid")
}
