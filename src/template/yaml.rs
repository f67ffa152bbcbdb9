//! Reading template text back: YAML (or JSON) into a `serde_yaml::Value` with CloudFormation's
//! short-form tags turned into their long form, so `!Ref Bucket` and `Ref: Bucket` look the same
//! to every check. A hand-edited file may use either; neither crashes the reader.

use anyhow::{Context, bail};
use serde_yaml::{Mapping, Value};

/// Largest template file read back. CloudFormation accepts at most 1 MB from S3 (51,200 bytes
/// inline); anything bigger was not written by this tool.
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// Parse template text and normalise short-form intrinsic tags into long form.
pub fn parse(text: &str) -> anyhow::Result<Value> {
    if text.len() > MAX_TEMPLATE_BYTES {
        bail!(
            "the template is {} bytes, over the {MAX_TEMPLATE_BYTES}-byte limit of CloudFormation; regenerate it with --action create-prov-template",
            text.len()
        );
    }
    // serde_yaml limits recursion depth and alias expansion, so hostile input is an error, not a hang.
    let value: Value = serde_yaml::from_str(text).context("the template is not valid YAML")?;
    if !value.is_mapping() {
        bail!(
            "the template is not a YAML mapping (expected AWSTemplateFormatVersion, Resources, …)"
        );
    }
    Ok(long_form(value))
}

/// Rewrite every tagged value: `!Ref x` → `{Ref: x}`, `!GetAtt a.b` → `{Fn::GetAtt: [a, b]}`,
/// `!Condition c` → `{Condition: c}`, any other `!Name v` → `{Fn::Name: v}`.
pub fn long_form(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = long_form(tagged.value);
            let (key, inner) = match name {
                "Ref" | "Condition" => (name.to_owned(), inner),
                "GetAtt" => {
                    let inner = match inner {
                        Value::String(dotted) => match dotted.split_once('.') {
                            Some((resource, attribute)) => Value::Sequence(vec![
                                Value::String(resource.to_owned()),
                                Value::String(attribute.to_owned()),
                            ]),
                            None => Value::String(dotted),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_owned(), inner)
                }
                _ => (format!("Fn::{name}"), inner),
            };
            let mut mapping = Mapping::new();
            mapping.insert(Value::String(key), inner);
            Value::Mapping(mapping)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(long_form).collect()),
        Value::Mapping(entries) => Value::Mapping(
            entries
                .into_iter()
                .map(|(key, value)| (key, long_form(value)))
                .collect(),
        ),
        scalar => scalar,
    }
}

/// A scalar as text: strings as they are, numbers and booleans in their YAML spelling (a
/// hand-edited `BlockPublicAcls: "true"` and `BlockPublicAcls: true` mean the same to
/// CloudFormation).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Whether `value` is `Ref: logical_id`.
pub fn is_ref_to(value: &Value, logical_id: &str) -> bool {
    value.get("Ref").and_then(Value::as_str) == Some(logical_id)
}

/// Whether `value` is `Fn::GetAtt: [logical_id, attribute]` (or the dotted string form).
pub fn is_get_att(value: &Value, logical_id: &str, attribute: &str) -> bool {
    match value.get("Fn::GetAtt") {
        Some(Value::Sequence(parts)) => {
            parts.len() == 2
                && parts[0].as_str() == Some(logical_id)
                && parts[1].as_str() == Some(attribute)
        }
        Some(Value::String(dotted)) => dotted.split_once('.') == Some((logical_id, attribute)),
        _ => false,
    }
}

/// A short human rendering of a value for messages (`true`, `"x"`, `{Ref: Bucket}`).
pub fn show(value: Option<&Value>) -> String {
    match value {
        None => "(missing)".to_owned(),
        Some(Value::String(text)) => format!("{text:?}"),
        Some(other) => serde_json::to_string(other).unwrap_or_else(|_| "(unprintable)".to_owned()),
    }
}

/// Paths where `actual` differs from `expected`: keys missing, added or with other values.
/// Stops after `limit` differences.
pub fn differences(expected: &Value, actual: &Value, limit: usize) -> Vec<String> {
    let mut found = Vec::new();
    diff_into(expected, actual, String::new(), limit, &mut found);
    found
}

fn diff_into(
    expected: &Value,
    actual: &Value,
    path: String,
    limit: usize,
    found: &mut Vec<String>,
) {
    if found.len() >= limit {
        return;
    }
    let join = |key: &Value| {
        let key = scalar_text(key).unwrap_or_else(|| "?".to_owned());
        if path.is_empty() {
            key
        } else {
            format!("{path}.{key}")
        }
    };
    match (expected, actual) {
        (Value::Mapping(want), Value::Mapping(have)) => {
            for (key, want_value) in want {
                match have.get(key) {
                    Some(have_value) => diff_into(want_value, have_value, join(key), limit, found),
                    None if found.len() < limit => found.push(format!("{} (removed)", join(key))),
                    None => return,
                }
            }
            for key in have.keys() {
                if !want.contains_key(key) && found.len() < limit {
                    found.push(format!("{} (added)", join(key)));
                }
            }
        }
        (Value::Sequence(want), Value::Sequence(have)) if want.len() == have.len() => {
            for (index, (want_item, have_item)) in want.iter().zip(have).enumerate() {
                diff_into(
                    want_item,
                    have_item,
                    format!("{path}[{index}]"),
                    limit,
                    found,
                );
            }
        }
        _ if expected == actual => {}
        _ => found.push(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_tags_become_long_form() {
        let value = parse(
            "A: !Ref Bucket\nB: !GetAtt Bucket.Arn\nC: !Sub '${Bucket.Arn}/*'\nD: !Join ['', [a, !Ref X]]\n",
        )
        .unwrap();
        assert!(is_ref_to(&value["A"], "Bucket"));
        assert!(is_get_att(&value["B"], "Bucket", "Arn"));
        assert_eq!(value["C"]["Fn::Sub"].as_str(), Some("${Bucket.Arn}/*"));
        assert!(is_ref_to(&value["D"]["Fn::Join"][1][1], "X"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in ["", "- a\n- b\n", "a: [\n", "a: *nothing\n", "\u{0}"] {
            assert!(parse(text).is_err(), "{text:?} should not parse");
        }
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
        assert!(parse(bomb).is_err());
    }

    #[test]
    fn differences_name_the_paths() {
        let want: Value = serde_yaml::from_str("a: {b: 1, c: [x, y]}\nd: 2\n").unwrap();
        let have: Value = serde_yaml::from_str("a: {b: 2, c: [x, z]}\ne: 3\n").unwrap();
        assert_eq!(
            differences(&want, &have, 10),
            ["a.b", "a.c[1]", "d (removed)", "e (added)"]
        );
        assert_eq!(differences(&want, &have, 1), ["a.b"]);
    }
}
