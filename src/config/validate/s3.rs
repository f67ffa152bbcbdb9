//! The `s3:` fields with a shape of their own: `bucket_name_override` (S3's naming rules),
//! `versioning` (a real boolean), `route_table_ids` (one comma-separated string) and `tags` (a
//! mapping of text to text, with AWS's tag rules).

use std::collections::BTreeMap;

use super::super::rules::{self, Violation};
use super::super::yaml::{Entry, Kind, Node, Pos};
use super::{Checker, Section, Text, scalar_text};
use crate::naming::{self, NameError};

impl Checker {
    /// `bucket_name_override`: unset, or a valid bucket name (`Err` when reported).
    pub(super) fn bucket_name_override(
        &mut self,
        section: Option<Section<'_>>,
    ) -> Result<Option<String>, ()> {
        let Some((name, pos)) = self.optional(section, "bucket_name_override")? else {
            return Ok(None);
        };
        let checked = naming::validate_bucket_name(&name).map_err(|error| {
            let rule = match error {
                NameError::BucketInvalid { rule, .. } => rule.to_owned(),
                NameError::BucketTooLong { len, .. } => format!(
                    "is {len} characters, over S3's limit of {}",
                    naming::BUCKET_NAME_MAX
                ),
                other => other.to_string(),
            };
            Violation {
                rule: format!("is not a valid S3 bucket name: {rule}"),
                fix: "use 3-63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit; or write \"\" for the derived name".to_owned(),
            }
        });
        self.check("s3.bucket_name_override", pos, &name, checked)
            .map(|()| Some(name))
            .ok_or(())
    }

    pub(super) fn versioning(&mut self, entry: Option<&Entry>) -> Option<bool> {
        let Some(entry) = entry else {
            return Some(false);
        };
        let key_path = "s3.versioning";
        let scalar = match &entry.value {
            Node::Scalar(scalar) if scalar.tag.is_none() => scalar,
            Node::Invalid(_) => return None,
            other => {
                self.problem(
                    other.pos(),
                    key_path,
                    scalar_text(other),
                    format!("must be true or false, but it is {}", other.describe()),
                    "write versioning: true or versioning: false",
                );
                return None;
            }
        };
        let value = scalar.value.as_str();
        if let Kind::Bool(on) = scalar.kind() {
            return Some(on);
        }
        let lower = value.to_ascii_lowercase();
        let (rule, fix) = if scalar.quoted && matches!(lower.as_str(), "true" | "false") {
            (
                "must be a boolean, but the quotes make it text".to_owned(),
                format!("remove the quotes: versioning: {lower}"),
            )
        } else if matches!(
            lower.as_str(),
            "yes" | "no" | "on" | "off" | "y" | "n" | "enabled" | "disabled"
        ) {
            let meant = if matches!(lower.as_str(), "yes" | "on" | "y" | "enabled") {
                "true"
            } else {
                "false"
            };
            (
                format!("`{value}` is not a boolean in YAML 1.2 (it is the text \"{value}\")"),
                format!("write versioning: {meant}"),
            )
        } else if scalar.kind() == Kind::Null {
            (
                "has no value".to_owned(),
                "write versioning: true or versioning: false (leaving the key out means false)"
                    .to_owned(),
            )
        } else {
            (
                "must be true or false".to_owned(),
                "write versioning: true or versioning: false".to_owned(),
            )
        };
        let (pos, value) = if scalar.kind() == Kind::Null {
            (entry.key.pos, None)
        } else {
            (scalar.pos, Some(value))
        };
        self.problem(pos, key_path, value, rule, fix);
        None
    }

    pub(super) fn route_table_ids(
        &mut self,
        entry: Option<&Entry>,
    ) -> Result<Option<(Vec<String>, Pos)>, ()> {
        let Some(entry) = entry else {
            return Ok(None);
        };
        let key_path = "s3.route_table_ids";
        if let Node::Sequence { items, pos } = &entry.value {
            let joined: Vec<&str> = items
                .iter()
                .filter_map(|item| match item {
                    Node::Scalar(scalar) => Some(scalar.value.as_str()),
                    _ => None,
                })
                .collect();
            self.problem(
                *pos,
                key_path,
                None,
                "must be one comma-separated string, not a list",
                format!("write route_table_ids: \"{}\"", joined.join(",")),
            );
            return Err(());
        }
        match self.text(key_path, &entry.value) {
            Text::Value(text, _) if text.trim().is_empty() => Ok(None),
            Text::Value(text, pos) => {
                let ids = self.check(key_path, pos, &text, rules::route_table_ids(&text));
                ids.map(|ids| Some((ids, pos))).ok_or(())
            }
            Text::Null => Ok(None),
            Text::Bad => Err(()),
        }
    }

    pub(super) fn tags(&mut self, entry: Option<&Entry>) -> Option<BTreeMap<String, String>> {
        let mut tags = BTreeMap::new();
        let Some(entry) = entry else {
            return Some(tags);
        };
        let entries = match &entry.value {
            Node::Mapping { entries, .. } => entries,
            Node::Scalar(scalar) if scalar.kind() == Kind::Null => return Some(tags),
            Node::Invalid(_) => return None,
            other => {
                self.problem(
                    other.pos(),
                    "s3.tags",
                    scalar_text(other),
                    format!(
                        "must be a mapping of `Key: value` lines, but it is {}",
                        other.describe()
                    ),
                    "write one `Key: value` per line, indented under `tags:`",
                );
                return None;
            }
        };
        let before = self.problems.len();
        if entries.len() > rules::MAX_USER_TAGS {
            self.problem(
                entry.key.pos,
                "s3.tags",
                None,
                format!(
                    "{} tags, over the limit of {} user tags (S3 allows 50; the tool adds its own)",
                    entries.len(),
                    rules::MAX_USER_TAGS
                ),
                "remove tags until at most 40 remain",
            );
        }
        for tag in entries {
            let key = &tag.key;
            let key_path = format!("s3.tags.{}", key.value);
            match key.kind() {
                Kind::Str => {}
                kind => {
                    let what = match kind {
                        Kind::Bool(_) => "a boolean",
                        Kind::Null => "null",
                        _ => "a number",
                    };
                    self.problem(
                        key.pos,
                        &key_path,
                        Some(&key.value),
                        format!(
                            "tag keys must be text, but YAML reads the unquoted key {} as {what}",
                            key.value
                        ),
                        format!("quote the key: \"{}\": …", key.value),
                    );
                    continue;
                }
            }
            if let Err(violation) = rules::tag_key(&key.value) {
                self.problem(key.pos, &key_path, None, violation.rule, violation.fix);
                continue;
            }
            match self.text(&key_path, &tag.value) {
                Text::Value(value, pos) => {
                    if self
                        .check(&key_path, pos, &value, rules::tag_value(&value))
                        .is_some()
                    {
                        tags.insert(key.value.clone(), value);
                    }
                }
                Text::Null => self.problem(
                    key.pos,
                    &key_path,
                    None,
                    "tag value is empty, which YAML reads as null, not text",
                    format!(
                        "write a value, or \"\" for an empty one: {}: \"\"",
                        key.value
                    ),
                ),
                Text::Bad => {}
            }
        }
        (self.problems.len() == before).then_some(tags)
    }
}
