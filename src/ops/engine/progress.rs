//! Live stack events: on a terminal, one redrawn line per resource showing its latest
//! status; otherwise (CI, pipes, reports) one timestamped line per event. Every event is also
//! recorded in the run's report either way.

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::aws::cfn::StackEvent;
use crate::output::{Level, LiveDisplay, Output, Style};

/// Shows stack events as they arrive.
pub struct EventDisplay {
    /// Redrawn bars, one per resource (terminal only).
    live: Option<Live>,
}

struct Live {
    display: LiveDisplay,
    bars: BTreeMap<String, ProgressBar>,
}

impl EventDisplay {
    /// A display that redraws when `out` allows it ([`Output::live_display`]), and prints lines
    /// otherwise.
    pub fn new(out: &Output) -> Self {
        let live = out.live_display().map(|display| Live {
            display,
            bars: BTreeMap::new(),
        });
        EventDisplay { live }
    }

    /// Show one event.
    pub fn show(&mut self, out: &mut Output, event: &StackEvent) {
        let line = event_line(event);
        let Some(redrawn) = &mut self.live else {
            let painted = match status_style(&event.status) {
                Some(style) => line.replacen(&event.status, &out.paint(style, &event.status), 1),
                None => line.clone(),
            };
            out.record(Level::Info, line, &[]);
            out.stderr_line(&painted);
            return;
        };
        out.record(Level::Info, line, &[]);
        let bar = redrawn
            .bars
            .entry(event.logical_id.clone())
            .or_insert_with(|| {
                redrawn
                    .display
                    .spinner("{spinner} {prefix:30} {wide_msg}", &event.logical_id)
            });
        let message = match &event.reason {
            Some(reason) if !reason.is_empty() => format!("{} — {reason}", event.status),
            _ => event.status.clone(),
        };
        let message = match status_style(&event.status) {
            Some(style) => out.paint(style, message),
            None => message,
        };
        if event.status.ends_with("_IN_PROGRESS") {
            bar.set_message(message);
        } else {
            bar.finish_with_message(message);
        }
    }

    /// Stop redrawing, leaving the last state of every line on screen.
    pub fn finish(&mut self, out: &mut Output) {
        let Some(live) = self.live.take() else { return };
        for bar in live.bars.values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
        if !live.bars.is_empty() {
            // indicatif leaves the cursor at the end of the last line it drew (to redraw it);
            // end that line so what follows starts on its own.
            out.stderr_line("");
        }
    }
}

/// `2026-05-01T12:00:03Z  Bucket                  AWS::S3::Bucket             CREATE_COMPLETE  reason`
pub fn event_line(event: &StackEvent) -> String {
    let at = event.timestamp.map_or_else(|| "-".to_owned(), timestamp);
    let mut line = format!(
        "{at}  {:<28} {:<28} {}",
        event.logical_id, event.resource_type, event.status
    );
    if let Some(reason) = event.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str("  ");
        line.push_str(reason);
    }
    line
}

fn timestamp(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| "-".to_owned())
}

fn status_style(status: &str) -> Option<Style> {
    if status.ends_with("_FAILED") || status.contains("ROLLBACK") {
        Some(Style::Red)
    } else if status.ends_with("_COMPLETE") {
        Some(Style::Green)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::OutputFormat;

    fn event(status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            event_id: "1".into(),
            stack_name: "s".into(),
            timestamp: OffsetDateTime::from_unix_timestamp(1_767_225_600).ok(),
            logical_id: "Bucket".into(),
            resource_type: "AWS::S3::Bucket".into(),
            physical_id: None,
            status: status.into(),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn without_a_terminal_each_event_is_one_timestamped_line() {
        let (mut out, captured) = crate::fixtures::captured_output(OutputFormat::Text);
        let mut display = EventDisplay::new(&out);
        display.show(&mut out, &event("CREATE_IN_PROGRESS", None));
        display.show(
            &mut out,
            &event("CREATE_FAILED", Some("Bucket already exists")),
        );
        display.finish(&mut out);
        let stderr = captured.stderr();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("2026-01-01T00:00:00Z  Bucket "),
            "{stderr}"
        );
        assert!(
            lines[1].ends_with("CREATE_FAILED  Bucket already exists"),
            "{stderr}"
        );
        assert_eq!(out.log_lines().len(), 2);
    }
}
