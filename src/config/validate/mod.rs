//! Second stage of config checking: the spanned tree → [`ValidConfig`], collecting *every*
//! problem (position, key path, value, rule, fix) instead of stopping at the first, then the
//! derived-name check and the warnings. The per-value rules live in `rules`; this module owns the
//! shape of the file: sections, known keys, required keys and YAML types.

use std::path::Path;

mod s3;
mod sections;
mod solution;
mod warnings;

use super::rules::{self, Violation};
use super::yaml::{Entry, Kind, Node, Pos, Scalar};
use super::{Problem, ValidConfig};
use warnings::{derived_names, warnings};

const CLIENT_KEYS: &[&str] = &["company_name", "company_prefix", "account_id", "tenant_id"];
const ENVIRONMENT_KEYS: &[&str] = &["env", "region"];
const S3_KEYS: &[&str] = &[
    "bucket_name_override",
    "versioning",
    "lifecycle_policy",
    "vpc_id",
    "route_table_ids",
    "tags",
];
/// Top-level keys that are values, not sections.
const TOP_LEVEL_VALUES: &[&str] = &["solution"];
const SECTIONS: &[(&str, &[&str])] = &[
    ("client", CLIENT_KEYS),
    ("environment", ENVIRONMENT_KEYS),
    ("s3", S3_KEYS),
];

/// An example line for each key, used in "missing" and "quote it" fixes.
fn example(key_path: &str) -> &'static str {
    match key_path {
        "client.company_name" => "company_name: Edge Corp",
        "client.company_prefix" => "company_prefix: edge",
        "client.account_id" => "account_id: \"123456789012\"",
        "client.tenant_id" => "tenant_id: \"b001\"",
        "environment.env" => "env: prod",
        "environment.region" => "region: us-west-1",
        "s3.versioning" => "versioning: true",
        "s3.lifecycle_policy" => "lifecycle_policy: ml-optimized",
        _ => "",
    }
}

/// The seal of [`ValidConfig`]: its field is private to this module, so only validation can make
/// one, and so only validation can build a `ValidConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::config) struct Validated(());

/// A section of the file (`client:` …) that was present and is a mapping.
#[derive(Clone, Copy)]
struct Section<'a> {
    name: &'static str,
    key_pos: Pos,
    entries: &'a [Entry],
}

impl<'a> Section<'a> {
    fn get(&self, key: &str) -> Option<&'a Entry> {
        self.entries.iter().find(|entry| entry.key.value == key)
    }
}

/// A scalar read as text, or why not.
enum Text {
    Value(String, Pos),
    /// No value (`key:` or `key: ~`).
    Null,
    /// Already reported.
    Bad,
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(
        &mut self,
        pos: Pos,
        key_path: &str,
        value: Option<&str>,
        rule: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.problems.push(Problem::at(
            pos,
            key_path,
            value.map(str::to_owned),
            rule,
            fix,
        ));
    }

    fn check<T>(
        &mut self,
        key_path: &str,
        pos: Pos,
        value: &str,
        result: Result<T, Violation>,
    ) -> Option<T> {
        result
            .map_err(|violation| {
                self.problem(pos, key_path, Some(value), violation.rule, violation.fix);
            })
            .ok()
    }

    /// Report keys of `entries` that are not in `known`, with a suggestion.
    fn unknown_keys(&mut self, section: Option<&str>, entries: &[Entry], known: &[&str]) {
        for entry in entries {
            let key = entry.key.value.as_str();
            if known.contains(&key) {
                continue;
            }
            let key_path = section.map_or_else(|| key.to_owned(), |s| format!("{s}.{key}"));
            let here = section.unwrap_or("the top level");
            let elsewhere = SECTIONS.iter().filter(|(name, _)| Some(*name) != section);
            let home = elsewhere
                .clone()
                .find(|(_, keys)| keys.contains(&key))
                .map(|(name, _)| *name);
            let near_home = elsewhere
                .clone()
                .find_map(|(name, keys)| rules::did_you_mean(key, keys).map(|k| (*name, k)));
            let fix = if let Some(suggestion) = rules::did_you_mean(key, known) {
                format!("did you mean `{suggestion}`?")
            } else if section.is_some() && TOP_LEVEL_VALUES.contains(&key) {
                format!("`{key}` is a top-level key; move it out of `{here}:` (no indentation)")
            } else if let Some(home) = home {
                format!("`{key}` belongs in the `{home}:` section; move it there")
            } else if let Some((home, suggestion)) = near_home {
                format!("did you mean `{suggestion}`? it belongs in the `{home}:` section")
            } else {
                format!("remove it; {here} accepts: {}", known.join(", "))
            };
            self.problem(
                entry.key.pos,
                &key_path,
                None,
                format!("unknown key `{key}` in {here}"),
                fix,
            );
        }
    }

    /// The section `name` of the top-level mapping, if present and a mapping.
    fn section<'a>(
        &mut self,
        root: &'a [Entry],
        root_pos: Pos,
        name: &'static str,
        keys: &[&str],
        required: bool,
    ) -> Option<Section<'a>> {
        let Some(entry) = root.iter().find(|e| e.key.value == name) else {
            if required {
                self.problem(
                    root_pos,
                    name,
                    None,
                    format!("missing required section `{name}:`"),
                    format!("add a `{name}:` section with {}", keys.join(", ")),
                );
            }
            return None;
        };
        match &entry.value {
            Node::Mapping { entries, .. } => {
                let section = Section {
                    name,
                    key_pos: entry.key.pos,
                    entries,
                };
                self.unknown_keys(Some(name), entries, keys);
                Some(section)
            }
            Node::Scalar(scalar) if scalar.kind() == Kind::Null => {
                if required {
                    self.problem(
                        entry.key.pos,
                        name,
                        None,
                        format!("section `{name}:` is empty"),
                        format!(
                            "indent its keys under it with two spaces: {}",
                            keys.join(", ")
                        ),
                    );
                }
                None
            }
            Node::Invalid(_) => None,
            other => {
                self.problem(
                    other.pos(),
                    name,
                    scalar_text(other),
                    format!(
                        "section `{name}:` must be a mapping of keys, but it is {}",
                        other.describe()
                    ),
                    format!(
                        "write its keys on the following lines, indented by two spaces: {}",
                        keys.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// Read `node` as text. Plain scalars YAML reads as numbers, booleans or null are not text.
    fn text(&mut self, key_path: &str, node: &Node) -> Text {
        let scalar = match node {
            Node::Scalar(scalar) => scalar,
            Node::Invalid(_) => return Text::Bad,
            other => {
                let key = key_path.rsplit('.').next().unwrap_or(key_path);
                self.problem(
                    other.pos(),
                    key_path,
                    None,
                    format!("must be a single value, but it is {}", other.describe()),
                    format!(
                        "write the value on the same line as the key (`{key}: value`), and check the indentation of the lines below it"
                    ),
                );
                return Text::Bad;
            }
        };
        if let Some(tag) = scalar.tag.as_deref().filter(|tag| *tag != "!!str") {
            self.problem(
                scalar.pos,
                key_path,
                Some(&scalar.value),
                format!("YAML tag `{tag}` is not supported in configs"),
                "remove the tag; write the value in quotes if it must be text",
            );
            return Text::Bad;
        }
        match scalar.kind() {
            Kind::Str => Text::Value(scalar.value.clone(), scalar.pos),
            Kind::Null => Text::Null,
            kind => {
                self.not_text(key_path, scalar, kind);
                Text::Bad
            }
        }
    }

    /// A plain scalar where text is expected: explain what YAML made of it and how to quote it.
    fn not_text(&mut self, key_path: &str, scalar: &Scalar, kind: Kind) {
        let value = &scalar.value;
        let key = key_path.rsplit('.').next().unwrap_or(key_path);
        let what = if matches!(kind, Kind::Bool(_)) {
            "a boolean"
        } else {
            "a number"
        };
        let (rule, fix) = match key_path {
            "client.account_id" | "client.tenant_id" => {
                let digits_ok = if key == "account_id" {
                    rules::account_id(value).is_ok()
                } else {
                    rules::tenant_id(value).is_ok()
                };
                let fix = if digits_ok {
                    format!("write {key}: \"{value}\"")
                } else if key == "account_id" {
                    "write the 12-digit account id in quotes, with its leading zeros, e.g. account_id: \"012345678901\"".to_owned()
                } else {
                    "write the 4-character site id in quotes, e.g. tenant_id: \"b001\"".to_owned()
                };
                (
                    format!(
                        "must be a quoted string: YAML reads the unquoted {value} as {what} and drops leading zeros (0123… becomes 123…)"
                    ),
                    fix,
                )
            }
            _ if key_path.starts_with("s3.tags.") => (
                format!("tag values must be text, but YAML reads the unquoted {value} as {what}"),
                format!("quote it: {key}: \"{value}\""),
            ),
            _ => (
                format!("must be text, but YAML reads the unquoted {value} as {what}"),
                format!("quote it: {key}: \"{value}\""),
            ),
        };
        self.problem(scalar.pos, key_path, Some(value), rule, fix);
    }

    /// A required text field of `section`.
    fn required(&mut self, section: Option<Section<'_>>, key: &str) -> Option<(String, Pos)> {
        let section = section?;
        let key_path = format!("{}.{key}", section.name);
        let Some(entry) = section.get(key) else {
            self.problem(
                section.key_pos,
                &key_path,
                None,
                format!("missing required key `{key}` in `{}:`", section.name),
                format!("add `{}` under `{}:`", example(&key_path), section.name),
            );
            return None;
        };
        match self.text(&key_path, &entry.value) {
            Text::Value(text, pos) => Some((text, pos)),
            Text::Null => {
                // An empty value has no text to point at: point at its key.
                self.problem(
                    entry.key.pos,
                    &key_path,
                    None,
                    format!("`{key}` has no value"),
                    format!("write a value after the colon, e.g. {}", example(&key_path)),
                );
                None
            }
            Text::Bad => None,
        }
    }

    /// An optional text field: `Ok(None)` when absent, empty, `~` or `""`; `Err` when reported.
    fn optional(
        &mut self,
        section: Option<Section<'_>>,
        key: &str,
    ) -> Result<Option<(String, Pos)>, ()> {
        let Some(entry) = section.and_then(|s| s.get(key)) else {
            return Ok(None);
        };
        match self.text(&format!("s3.{key}"), &entry.value) {
            Text::Value(text, _) if text.is_empty() => Ok(None),
            Text::Value(text, pos) => Ok(Some((text, pos))),
            Text::Null => Ok(None),
            Text::Bad => Err(()),
        }
    }
}

/// The text of a scalar node, for the `value` of a problem.
fn scalar_text(node: &Node) -> Option<&str> {
    match node {
        Node::Scalar(scalar) => Some(&scalar.value),
        _ => None,
    }
}

/// Validate the tree of `source` into a [`ValidConfig`] (with warnings), or every problem found.
pub fn validate(source: &Path, root: &Node) -> Result<ValidConfig, Vec<Problem>> {
    let mut c = Checker::default();
    let (root_entries, root_pos) = match root {
        Node::Mapping { entries, pos } => (entries.as_slice(), *pos),
        other => {
            // `yaml::parse` only returns mappings; answer sensibly anyway.
            c.problem(
                other.pos(),
                "",
                None,
                "the top level must be a mapping",
                "start the file with `client:`",
            );
            return Err(c.problems);
        }
    };
    let mut top_level: Vec<&str> = SECTIONS.iter().map(|(name, _)| *name).collect();
    top_level.extend(TOP_LEVEL_VALUES);
    c.unknown_keys(None, root_entries, &top_level);
    let client = c.section(root_entries, root_pos, "client", CLIENT_KEYS, true);
    let environment = c.section(
        root_entries,
        root_pos,
        "environment",
        ENVIRONMENT_KEYS,
        true,
    );
    let s3 = c.section(root_entries, root_pos, "s3", S3_KEYS, false);

    let client = sections::client(&mut c, client);
    let environment = sections::environment(&mut c, environment);
    let s3 = sections::s3(&mut c, s3);
    let solution = c.solution(root_entries.iter().find(|e| e.key.value == "solution"));

    let mut problems = c.problems;
    let (Some((client, prefix_pos)), Some(environment), Some(s3), Ok(solution)) =
        (client, environment, s3, solution)
    else {
        sort(&mut problems);
        return Err(problems);
    };
    if !problems.is_empty() {
        sort(&mut problems);
        return Err(problems);
    }
    let mut config = ValidConfig {
        source: source.to_owned(),
        client,
        environment,
        s3,
        solution: solution.as_ref().map(|(name, _)| name.clone()),
        warnings: Vec::new(),
        validated: Validated(()),
    };
    if let Err(problem) = derived_names(&config, prefix_pos) {
        return Err(vec![problem]);
    }
    if let Some((_, pos)) = solution
        && let Err(problem) = solution::solution_names(&config, pos)
    {
        return Err(vec![problem]);
    }
    config.warnings = warnings(&config);
    Ok(config)
}

/// Every key a config may hold, as key paths (`client`, `client.company_name`, …), read from the
/// tables the checks use, so the config reference and the JSON Schema are tested against them.
pub fn key_paths() -> Vec<String> {
    SECTIONS
        .iter()
        .flat_map(|(section, keys)| {
            std::iter::once((*section).to_owned())
                .chain(keys.iter().map(move |key| format!("{section}.{key}")))
        })
        .collect()
}

/// Whole-file problems first, then by position.
pub fn sort(problems: &mut [Problem]) {
    problems.sort_by_key(|p| (p.line, p.column));
}

/// The derived-name check on its own, for tests that build a model by hand.
#[cfg(test)]
pub(super) fn derived_names_problem(config: &ValidConfig, prefix_pos: Pos) -> Option<Problem> {
    derived_names(config, prefix_pos).err()
}
