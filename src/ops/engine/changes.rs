//! How changes read on screen: per-resource change-set lines (`+ add`, `~ modify` with
//! `property: old → new` and replacement warnings, `- remove`), stack-tag changes, and a unified
//! diff between the deployed and the new template. Pure functions of their inputs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::aws::cfn::{ChangeAction, PropertyChange, Replacement, ResourceChange};
use crate::output::{Output, Style};

/// Longest property value shown inline; longer ones are cut with `…` (the diff shows all).
const MAX_VALUE_CHARS: usize = 100;

/// The lines describing `changes`, one header per resource and one indented line per changed
/// property, painted when `out` has colour.
pub fn change_lines(out: &Output, changes: &[ResourceChange]) -> Vec<String> {
    let mut lines = Vec::new();
    for change in changes {
        let (symbol, verb, style) = match &change.action {
            ChangeAction::Add => ("+", "add", Style::Green),
            ChangeAction::Modify => ("~", "modify", Style::Yellow),
            ChangeAction::Remove => ("-", "remove", Style::Red),
            ChangeAction::Import => ("+", "import", Style::Green),
            ChangeAction::Dynamic => ("~", "dynamic", Style::Yellow),
            ChangeAction::Other(name) => ("?", name.as_str(), Style::Yellow),
        };
        let drift = match change.drift_status.as_deref() {
            Some(status) if status != "IN_SYNC" => {
                format!("  {}", out.paint(Style::Yellow, format!("drift: {status}")))
            }
            _ => String::new(),
        };
        lines.push(format!(
            "  {} {:<28} {}{drift}",
            out.paint(style, format!("{symbol} {verb:<7}")),
            change.logical_id,
            out.paint(Style::Dim, &change.resource_type)
        ));
        let mut seen = BTreeSet::new();
        for detail in &change.details {
            let line = property_line(detail);
            if seen.insert(line.clone()) {
                lines.push(format!("        {line}"));
            }
        }
        match change.replacement {
            Some(Replacement::Yes) => lines.push(format!(
                "        {}",
                out.paint(
                    Style::Red,
                    "! REPLACES this resource: a new one is created and the old one is deleted (or kept, with DeletionPolicy Retain)"
                )
            )),
            Some(Replacement::Conditional) => lines.push(format!(
                "        {}",
                out.paint(
                    Style::Yellow,
                    "! may replace this resource, depending on values CloudFormation resolves while deploying"
                )
            )),
            _ => {}
        }
    }
    lines
}

/// `Name: before → after` when CloudFormation reported values, else the property name and why it
/// changes.
fn property_line(detail: &PropertyChange) -> String {
    let label = detail
        .path
        .as_deref()
        .map(|p| p.trim_start_matches("/Properties/").trim_start_matches('/'))
        .filter(|p| !p.is_empty())
        .or(detail.name.as_deref())
        .unwrap_or(detail.attribute.as_str())
        .to_owned();
    let recreation = match detail.requires_recreation.as_deref() {
        Some("Always") => " (requires replacement)",
        Some("Conditionally") => " (may require replacement)",
        _ => "",
    };
    if let Some(actual) = detail.drift.as_ref().and_then(|d| d.actual.as_deref()) {
        // A drift-aware change set: the live value is what CloudFormation overwrites.
        return if detail.after.as_deref() == Some(actual) {
            format!(
                "{label}: {} (live) already matches the template; only its drift record is reset",
                shown(Some(actual))
            )
        } else {
            format!(
                "{label}: {} (live, changed outside CloudFormation) → {} (template){recreation}",
                shown(Some(actual)),
                shown(detail.after.as_deref())
            )
        };
    }
    match (&detail.before, &detail.after) {
        (None, None) => format!("{label}: changed{recreation}"),
        (before, after) => format!(
            "{label}: {} → {}{recreation}",
            shown(before.as_deref()),
            shown(after.as_deref())
        ),
    }
}

fn shown(value: Option<&str>) -> String {
    match value {
        None => "(none)".to_owned(),
        Some(v) if v.chars().count() > MAX_VALUE_CHARS => {
            let cut: String = v.chars().take(MAX_VALUE_CHARS).collect();
            format!("{cut}…")
        }
        Some(v) => v.to_owned(),
    }
}

/// A stack tag that would be added, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The differences between the deployed stack tags and the new ones, by key.
pub fn tag_changes(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<TagChange> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|key| TagChange {
            key: key.clone(),
            before: before.get(key).cloned(),
            after: after.get(key).cloned(),
        })
        .collect()
}

/// One line per tag change: `+ Key = value`, `~ Key: old → new`, `- Key (was value)`.
pub fn tag_lines(out: &Output, changes: &[TagChange]) -> Vec<String> {
    changes
        .iter()
        .map(|change| match (&change.before, &change.after) {
            (None, Some(after)) => format!(
                "  {} {} = {after}",
                out.paint(Style::Green, "+"),
                change.key
            ),
            (Some(before), None) => format!(
                "  {} {} (was {before})",
                out.paint(Style::Red, "-"),
                change.key
            ),
            (before, after) => format!(
                "  {} {}: {} → {}",
                out.paint(Style::Yellow, "~"),
                change.key,
                before.as_deref().unwrap_or_default(),
                after.as_deref().unwrap_or_default()
            ),
        })
        .collect()
}

/// A unified diff (3 lines of context) from the deployed to the new template; empty when equal.
pub fn template_diff(deployed: &str, new: &str) -> String {
    if deployed == new {
        return String::new();
    }
    similar::TextDiff::from_lines(deployed, new)
        .unified_diff()
        .context_radius(3)
        .header("deployed", "new")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::OutputFormat;

    fn plain() -> Output {
        crate::fixtures::captured_output(OutputFormat::Text).0
    }

    fn change(
        action: ChangeAction,
        id: &str,
        kind: &str,
        replacement: Option<Replacement>,
        details: Vec<PropertyChange>,
    ) -> ResourceChange {
        ResourceChange {
            action,
            logical_id: id.into(),
            resource_type: kind.into(),
            physical_id: None,
            replacement,
            details,
            drift_status: None,
        }
    }

    #[test]
    fn change_lines_show_actions_values_and_replacements() {
        let tag_value = PropertyChange {
            attribute: "Properties".into(),
            name: Some("Tags".into()),
            path: Some("/Properties/Tags/1/Value".into()),
            before: Some("data-science".into()),
            after: Some("ml-platform".into()),
            requires_recreation: Some("Never".into()),
            drift: None,
        };
        let name = PropertyChange {
            attribute: "Properties".into(),
            name: Some("BucketName".into()),
            path: None,
            before: None,
            after: None,
            requires_recreation: Some("Always".into()),
            drift: None,
        };
        let changes = [
            change(
                ChangeAction::Add,
                "VpcEndpoint",
                "AWS::EC2::VPCEndpoint",
                None,
                vec![],
            ),
            change(
                ChangeAction::Modify,
                "Bucket",
                "AWS::S3::Bucket",
                Some(Replacement::Yes),
                // CloudFormation reports a change once per cause; show it once.
                vec![tag_value.clone(), tag_value, name],
            ),
            change(
                ChangeAction::Remove,
                "BucketArnParameter",
                "AWS::SSM::Parameter",
                None,
                vec![],
            ),
        ];
        insta::assert_snapshot!(change_lines(&plain(), &changes).join("\n"));
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(300);
        let line = property_line(&PropertyChange {
            attribute: "Properties".into(),
            name: Some("LifecycleConfiguration".into()),
            path: Some("/Properties/LifecycleConfiguration".into()),
            before: None,
            after: Some(long),
            requires_recreation: None,
            drift: None,
        });
        assert!(
            line.starts_with("LifecycleConfiguration: (none) → xxx"),
            "{line}"
        );
        assert!(line.ends_with('…'));
        assert!(line.chars().count() < 150);
    }

    #[test]
    fn tag_changes_cover_added_changed_and_removed_keys() {
        let before = BTreeMap::from([
            ("Owner".to_owned(), "data-science".to_owned()),
            ("Old".to_owned(), "x".to_owned()),
            ("Same".to_owned(), "s".to_owned()),
        ]);
        let after = BTreeMap::from([
            ("Owner".to_owned(), "ml-platform".to_owned()),
            ("New".to_owned(), "y".to_owned()),
            ("Same".to_owned(), "s".to_owned()),
        ]);
        let changes = tag_changes(&before, &after);
        assert_eq!(
            changes.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
            ["New", "Old", "Owner"]
        );
        assert_eq!(
            tag_lines(&plain(), &changes),
            [
                "  + New = y",
                "  - Old (was x)",
                "  ~ Owner: data-science → ml-platform"
            ]
        );
    }

    #[test]
    fn template_diff_is_unified_and_empty_when_equal() {
        let old = "a: 1\nb: 2\nc: 3\n";
        let new = "a: 1\nb: 5\nc: 3\n";
        assert_eq!(template_diff(old, old), "");
        let diff = template_diff(old, new);
        assert!(diff.starts_with("--- deployed\n+++ new\n"), "{diff}");
        assert!(diff.contains("-b: 2\n+b: 5\n"), "{diff}");
    }
}
