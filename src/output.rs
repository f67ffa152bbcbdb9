//! All user-facing output goes through [`Output`]: results on stdout (text mode only; JSON mode
//! prints one document at the end), progress, warnings and errors on stderr, and every line also
//! recorded for the run's `.log` report. Colour only on a terminal, never with `NO_COLOR` or
//! `--no-color`. Fleet runs buffer each config's output and print it whole when the run ends.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::exit::{NotConfirmed, Refusal};

/// `--output`: text for people, json for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text (default)
    Text,
    /// One JSON result document on stdout
    Json,
}

/// Report levels, written `ERROR` … `DEBUG` in the `.log` report, so `grep -i error` finds
/// failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    /// `ERROR`, `WARN`, `INFO`, `DEBUG`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }
}

/// One recorded event for the `.log` report.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: OffsetDateTime,
    pub level: Level,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

/// Terminal styles used in text output.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Bold,
    Green,
    Yellow,
    Red,
    Cyan,
    Dim,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Cyan => "36",
            Style::Dim => "2",
        }
    }
}

/// Where output bytes go: the process streams, or a shared buffer (fleets and tests).
#[derive(Clone)]
enum Sink {
    Stdout,
    Stderr,
    Buffer(Arc<Mutex<Vec<u8>>>),
}

impl Sink {
    fn write_line(&self, line: &str) {
        // Output errors (a closed pipe) must not turn a finished action into a failure.
        let _ = match self {
            Sink::Stdout => writeln!(io::stdout().lock(), "{line}"),
            Sink::Stderr => writeln!(io::stderr().lock(), "{line}"),
            Sink::Buffer(buffer) => {
                let mut buffer = buffer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                writeln!(buffer, "{line}")
            }
        };
    }
}

/// A captured stdout/stderr pair, for tests and fleet runs.
#[derive(Clone, Default)]
pub struct Captured {
    pub stdout: Arc<Mutex<Vec<u8>>>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    /// Everything written to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(
            &self
                .stdout
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(
            &self
                .stderr
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }
}

/// A display redrawn in place on the terminal (the stack's live events, emptying a bucket),
/// handed out only by [`Output::live_display`], so `--quiet`, captured and fleet output never
/// draw one.
pub struct LiveDisplay {
    multi: indicatif::MultiProgress,
}

impl LiveDisplay {
    /// A new spinner line on this display, in indicatif's `template` syntax, ticking on its own.
    pub fn spinner(&self, template: &str, prefix: &str) -> indicatif::ProgressBar {
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_prefix(prefix.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}

/// How a run's output should look.
#[derive(Debug, Clone, Copy)]
pub struct OutputSettings {
    pub format: OutputFormat,
    /// `--no-color` given.
    pub no_color: bool,
    pub quiet: bool,
    pub verbose: u8,
}

/// The one colour rule, for [`Output`] and the diagnostics (`-vv`) alike: colour only when stdout
/// and stderr are terminals, never with `--no-color` (`no_color`) or a non-empty `NO_COLOR`.
pub fn color_allowed(no_color: bool) -> bool {
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && io::stderr().is_terminal()
        && io::stdout().is_terminal()
}

/// The single writer for results, progress and the report log of one run.
pub struct Output {
    format: OutputFormat,
    color: bool,
    quiet: bool,
    verbose: u8,
    interactive: bool,
    /// Part of a fleet run: never asks, and says why.
    in_fleet: bool,
    stdout: Sink,
    stderr: Sink,
    log: Vec<LogLine>,
    /// Warnings printed since the last [`Output::take_warnings`], for the result document.
    warnings: Vec<String>,
}

impl Output {
    /// Output to the process's stdout and stderr.
    pub fn to_terminal(settings: OutputSettings) -> Self {
        let stderr_tty = io::stderr().is_terminal();
        let color = color_allowed(settings.no_color);
        Output {
            format: settings.format,
            color,
            quiet: settings.quiet,
            verbose: settings.verbose,
            interactive: stderr_tty && io::stdin().is_terminal(),
            in_fleet: false,
            stdout: Sink::Stdout,
            stderr: Sink::Stderr,
            log: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Output captured in memory (no colour, never interactive).
    pub fn captured(settings: OutputSettings) -> (Self, Captured) {
        let captured = Captured::default();
        let output = Output {
            format: settings.format,
            color: false,
            quiet: settings.quiet,
            verbose: settings.verbose,
            interactive: false,
            in_fleet: false,
            stdout: Sink::Buffer(Arc::clone(&captured.stdout)),
            stderr: Sink::Buffer(Arc::clone(&captured.stderr)),
            log: Vec::new(),
            warnings: Vec::new(),
        };
        (output, captured)
    }

    /// Output of one config of a fleet run: captured like [`Output::captured`], and a question
    /// is refused with the reason fleets never ask.
    pub fn for_fleet_run(settings: OutputSettings) -> (Self, Captured) {
        let (mut output, captured) = Self::captured(settings);
        output.in_fleet = true;
        (output, captured)
    }

    /// The result format.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether results are printed as text (not JSON).
    pub fn is_text(&self) -> bool {
        self.format == OutputFormat::Text
    }

    /// Whether a person is at the terminal (stdin and stderr are TTYs): progress can be redrawn
    /// and questions can be asked.
    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// A redrawn display on stderr, when progress may be redrawn: a person at the terminal and
    /// no `--quiet`. `None` otherwise; the caller then reports progress as lines through this
    /// output (which `--quiet` hides).
    pub fn live_display(&self) -> Option<LiveDisplay> {
        (self.interactive && !self.quiet).then(|| LiveDisplay {
            multi: indicatif::MultiProgress::with_draw_target(
                indicatif::ProgressDrawTarget::stderr(),
            ),
        })
    }

    /// `text` in `style` when colour is on.
    pub fn paint(&self, style: Style, text: impl Display) -> String {
        if self.color {
            format!("\x1b[{}m{text}\x1b[0m", style.code())
        } else {
            text.to_string()
        }
    }

    /// A result line on stdout (text mode only; JSON mode prints the document at the end).
    /// Also recorded in the report at INFO.
    pub fn result(&mut self, line: impl Display) {
        let line = line.to_string();
        self.record(Level::Info, strip_ansi(&line), &[]);
        if self.is_text() {
            self.stdout.write_line(&line);
        }
    }

    /// A progress or status line on stderr (hidden by `--quiet`), recorded at INFO with fields.
    pub fn info(&mut self, message: impl Display, fields: &[(&str, &dyn Display)]) {
        let message = message.to_string();
        self.record(Level::Info, message.clone(), fields);
        if !self.quiet {
            let line = format!("{message}{}", render_fields(fields));
            self.stderr.write_line(&line);
        }
    }

    /// A warning on stderr (shown even with `--quiet`), recorded at WARN. Control characters in
    /// it are shown escaped.
    pub fn warn(&mut self, message: impl Display) {
        let message = escape_controls(&message.to_string());
        self.record(Level::Warn, message.clone(), &[]);
        let line = format!("{} {message}", self.paint(Style::Yellow, "warning:"));
        self.stderr.write_line(&line);
        self.warnings.push(message);
    }

    /// The warnings printed since the last call (every one printed also belongs in the result
    /// document), leaving none.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// An error on stderr, recorded at ERROR. `{:#}` of an anyhow error shows its context chain.
    /// Control characters in it (a user's value, an SDK message) are shown escaped.
    pub fn error(&mut self, message: impl Display) {
        let message = escape_controls(&message.to_string());
        self.record(Level::Error, message.clone(), &[]);
        let line = format!("{} {message}", self.paint(Style::Red, "error:"));
        self.stderr.write_line(&line);
    }

    /// A diagnostic line: always in the report at DEBUG, on stderr only with `-v`.
    pub fn debug(&mut self, message: impl Display, fields: &[(&str, &dyn Display)]) {
        let message = message.to_string();
        self.record(Level::Debug, message.clone(), fields);
        if self.verbose > 0 {
            let line = self.paint(Style::Dim, format!("{message}{}", render_fields(fields)));
            self.stderr.write_line(&line);
        }
    }

    /// Write raw text to stdout regardless of format (the final JSON document).
    pub fn print_document(&mut self, text: &str) {
        self.stdout.write_line(text);
    }

    /// Write a raw line to stderr without recording it (progress redraws).
    pub fn stderr_line(&mut self, line: &str) {
        if !self.quiet {
            self.stderr.write_line(line);
        }
    }

    /// Record an event for the report only.
    pub fn record(&mut self, level: Level, message: String, fields: &[(&str, &dyn Display)]) {
        self.log.push(LogLine {
            at: OffsetDateTime::now_utc(),
            level,
            message,
            fields: fields
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.to_string()))
                .collect(),
        });
    }

    /// The recorded events, in order.
    pub fn log_lines(&self) -> &[LogLine] {
        &self.log
    }

    /// Go ahead only with `--force` or an interactive "yes". Without a terminal (or in a fleet)
    /// this refuses (exit 4) instead of waiting for input that will never come; a "no" is
    /// [`NotConfirmed`] (exit 4, reported as an outcome, not an error). The question is asked
    /// without blocking the runtime, so Ctrl-C at the prompt stops the run (exit 130) at once.
    pub async fn confirm(&mut self, force: bool, question: &str) -> anyhow::Result<()> {
        if force {
            self.record(Level::Info, format!("{question} -> yes (--force)"), &[]);
            return Ok(());
        }
        self.refuse_unless_asking(question)?;
        let answer = ask(format!("{question} [y/N] ")).await?;
        if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            self.record(Level::Info, format!("{question} -> yes"), &[]);
            Ok(())
        } else {
            Err(NotConfirmed(format!("{question} Not confirmed; nothing was changed")).into())
        }
    }

    /// Like [`Output::confirm`], but the person must type `expected` (tear-down: the bucket name).
    pub async fn confirm_typed(
        &mut self,
        force: bool,
        what: &str,
        expected: &str,
    ) -> anyhow::Result<()> {
        if force {
            self.record(Level::Info, format!("{what} -> confirmed by --force"), &[]);
            return Ok(());
        }
        self.refuse_unless_asking(what)?;
        let answer = ask(format!("{what} Type `{expected}` to confirm: ")).await?;
        if answer.trim() == expected {
            self.record(Level::Info, format!("{what} -> confirmed"), &[]);
            Ok(())
        } else {
            Err(NotConfirmed(format!(
                "{what} Confirmation did not match `{expected}`; nothing was changed"
            ))
            .into())
        }
    }

    /// The refusal when no question can be asked: in a fleet, or without a terminal.
    fn refuse_unless_asking(&self, question: &str) -> anyhow::Result<()> {
        if self.in_fleet {
            return Err(Refusal(format!(
                "{question} Refused: fleet runs never ask for confirmation (their configs run side by side, so questions and answers would interleave). Rerun with --force, or run this config on its own to be asked"
            ))
            .into());
        }
        if !self.interactive {
            return Err(Refusal(format!(
                "{question} Refused: this needs confirmation and no terminal is attached; rerun with --force"
            ))
            .into());
        }
        Ok(())
    }
}

/// Ask on the terminal and read one line, on a blocking thread so that the run can be stopped
/// (Ctrl-C) while it waits. End of input is an empty answer, i.e. "no".
async fn ask(prompt: String) -> anyhow::Result<String> {
    {
        let mut stderr = io::stderr().lock();
        write!(stderr, "{prompt}")?;
        stderr.flush()?;
    }
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        io::stdin().read_line(&mut answer).map(|_| answer)
    })
    .await??;
    Ok(answer)
}

/// A notice straight to the terminal's stderr, outside any run's output (the Ctrl-C notice,
/// which may come while several fleet runs are buffering theirs).
pub fn notice(line: &str) {
    Sink::Stderr.write_line(&format!("\n{line}"));
}

fn render_fields(fields: &[(&str, &dyn Display)]) -> String {
    use std::fmt::Write as _;
    fields.iter().fold(String::new(), |mut text, (key, value)| {
        let _ = write!(text, " {key}={value}");
        text
    })
}

pub use crate::text::{shown, shown_path};

/// `text` with every control character but line breaks and tabs escaped (`\u{1b}`): whatever an
/// error or warning quotes (an SDK message, a value) cannot drive the terminal. Output's own colour
/// codes are added after this.
pub fn escape_controls(text: &str) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.to_owned();
    }
    text.chars()
        .fold(String::with_capacity(text.len()), |mut escaped, c| {
            if c.is_control() && c != '\n' && c != '\t' {
                escaped.extend(c.escape_debug());
            } else {
                escaped.push(c);
            }
            escaped
        })
}

/// Remove ANSI colour sequences (reports are plain text).
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(format: OutputFormat) -> OutputSettings {
        OutputSettings {
            format,
            no_color: true,
            quiet: false,
            verbose: 0,
        }
    }

    #[test]
    fn text_results_go_to_stdout_and_progress_to_stderr() {
        let (mut out, captured) = Output::captured(settings(OutputFormat::Text));
        out.result("bucket: b");
        out.info("working", &[("stack", &"s")]);
        out.warn("careful");
        assert_eq!(captured.stdout(), "bucket: b\n");
        assert_eq!(captured.stderr(), "working stack=s\nwarning: careful\n");
        let levels: Vec<Level> = out.log_lines().iter().map(|l| l.level).collect();
        assert_eq!(levels, [Level::Info, Level::Info, Level::Warn]);
    }

    #[test]
    fn json_mode_keeps_stdout_for_the_document() {
        let (mut out, captured) = Output::captured(settings(OutputFormat::Json));
        out.result("bucket: b");
        assert_eq!(captured.stdout(), "");
    }

    #[tokio::test]
    async fn confirmation_without_a_terminal_is_a_refusal() {
        let (mut out, _) = Output::captured(settings(OutputFormat::Text));
        let error = out.confirm(false, "Create stack x?").await.unwrap_err();
        assert!(error.is::<Refusal>());
        assert!(error.to_string().contains("no terminal is attached"));
        assert!(error.to_string().contains("--force"));
        assert!(out.confirm(true, "Create stack x?").await.is_ok());
    }

    #[tokio::test]
    async fn a_fleet_run_says_fleets_never_ask_and_why() {
        let (mut out, _) = Output::for_fleet_run(settings(OutputFormat::Text));
        let error = out.confirm(false, "Create stack x?").await.unwrap_err();
        assert!(error.is::<Refusal>());
        let text = error.to_string();
        assert!(text.contains("fleet runs never ask"), "{text}");
        assert!(text.contains("run this config on its own"), "{text}");
        assert!(!text.contains("no terminal"), "{text}");
    }

    #[test]
    fn control_characters_in_errors_and_warnings_are_escaped_but_line_breaks_kept() {
        let (mut out, captured) = Output::captured(settings(OutputFormat::Text));
        out.error("solution \x1b[31mx is invalid\n  fix: rename\r");
        out.warn("profile \x07bell");
        assert_eq!(
            captured.stderr(),
            "error: solution \\u{1b}[31mx is invalid\n  fix: rename\\r\nwarning: profile \\u{7}bell\n"
        );
        assert_eq!(out.log_lines()[1].message, "profile \\u{7}bell");
    }

    #[test]
    fn user_values_are_shown_plain_or_quoted_and_escaped() {
        assert_eq!(shown("edge.yaml"), "edge.yaml");
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        assert_eq!(shown("\x1b[31mx"), "\"\\u{1b}[31mx\"");
    }

    #[test]
    fn ansi_sequences_are_stripped() {
        assert_eq!(strip_ansi("\x1b[31merror:\x1b[0m x"), "error: x");
    }
}
