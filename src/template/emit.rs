//! Deterministic block-style YAML text for a template value.
//!
//! The typed template is turned into a `serde_yaml::Value` with serde (keys in struct field
//! order), then written here rather than by `serde_yaml::to_string`, because serde_yaml writes
//! strings such as `2010-09-09`, `yes`, `on`, `no` or `1_000` unquoted. They are strings in YAML
//! 1.2, but CloudFormation and cfn-lint read templates as YAML 1.1, where they are dates, booleans
//! and numbers: a user tag `Backup: "no"` would reach S3 as `false`. This emitter quotes every
//! string that is not conservatively safe as a plain scalar, so the text means the same under
//! YAML 1.1 and 1.2.

use std::fmt::Write as _;

use serde_yaml::Value;

/// Indentation step.
const INDENT: usize = 2;

/// `value` as block YAML, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut text = String::new();
    match value {
        Value::Mapping(map) if !map.is_empty() => write_mapping(&mut text, map, 0),
        Value::Sequence(items) if !items.is_empty() => write_sequence(&mut text, items, 0),
        other => {
            text.push_str(&inline(other));
            text.push('\n');
        }
    }
    text
}

fn write_mapping(text: &mut String, map: &serde_yaml::Mapping, indent: usize) {
    for (key, value) in map {
        let _ = write!(text, "{:indent$}{}:", "", inline(key));
        write_value_after_key(text, value, indent);
    }
}

/// The value of a mapping entry, after `key:`.
fn write_value_after_key(text: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            text.push('\n');
            write_mapping(text, map, indent + INDENT);
        }
        Value::Sequence(items) if !items.is_empty() => {
            text.push('\n');
            write_sequence(text, items, indent + INDENT);
        }
        scalar => {
            let _ = writeln!(text, " {}", inline(scalar));
        }
    }
}

fn write_sequence(text: &mut String, items: &[Value], indent: usize) {
    for item in items {
        let _ = write!(text, "{:indent$}-", "");
        match item {
            Value::Mapping(map) if !map.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                for (position, (key, value)) in map.iter().enumerate() {
                    if position == 0 {
                        let _ = write!(text, " {}:", inline(key));
                    } else {
                        let _ = write!(
                            text,
                            "{:width$}{}:",
                            "",
                            inline(key),
                            width = indent + INDENT
                        );
                    }
                    write_value_after_key(text, value, indent + INDENT);
                }
            }
            Value::Sequence(inner) if !inner.is_empty() => {
                text.push('\n');
                write_sequence(text, inner, indent + INDENT);
            }
            scalar => {
                let _ = writeln!(text, " {}", inline(scalar));
            }
        }
    }
}

/// A scalar, an empty collection or a tagged value on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string(text),
        Value::Sequence(_) => "[]".to_owned(),
        Value::Mapping(_) => "{}".to_owned(),
        // The template model has no tagged values; render the content rather than fail.
        Value::Tagged(tagged) => inline(&tagged.value),
    }
}

/// A string scalar: plain when unambiguous, else single-quoted, else double-quoted with escapes.
fn string(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else if text.chars().all(|c| !c.is_control()) {
        format!("'{}'", text.replace('\'', "''"))
    } else {
        // A JSON string literal is a valid YAML double-quoted scalar.
        serde_json::to_string(text).unwrap_or_else(|_| "''".to_owned())
    }
}

/// Whether `text` reads back as the same string under YAML 1.1 and 1.2 when written plain.
/// Deliberately narrow: anything unusual is quoted, which is always correct.
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    // Digits, signs and dots start numbers, dates and times in one YAML version or the other.
    let first_ok = first.is_ascii_alphabetic() || matches!(first, '/' | '$' | '_');
    let chars_ok = text.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                ' ' | '_'
                    | '-'
                    | '.'
                    | '/'
                    | ':'
                    | '$'
                    | '{'
                    | '}'
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | '='
                    | '@'
            )
    });
    let lower = text.to_ascii_lowercase();
    // YAML 1.1 booleans and the null spellings.
    let reserved = matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
    );
    first_ok && chars_ok && !reserved && !text.ends_with([' ', ':']) && !text.contains(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ambiguous_strings_are_quoted() {
        for text in [
            "2010-09-09",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "true",
            "null",
            "~",
            "1_000",
            "012",
            "0x1F",
            "1:20",
            ".inf",
            "<<",
            "=",
            "*",
            "a: b",
            "a #b",
            " x",
            "x ",
            "",
            "-",
            "it's",
        ] {
            assert_ne!(string(text), text, "{text:?} must be quoted");
        }
        assert_eq!(string("it's"), "'it''s'");
        assert_eq!(string("tab\there"), "\"tab\\there\"");
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        for text in [
            "edge-prod-b001-us-west-1-s3",
            "/s3-provisioner/x/bucket-name",
            "${Bucket.Arn}/*",
            "com.amazonaws.${AWS::Region}.s3",
            "s3:*",
            "aws:SecureTransport",
            "Fn::GetAtt",
            "AWS::S3::Bucket",
            "ML Solutions Portfolio",
        ] {
            assert_eq!(string(text), text);
        }
    }

    #[test]
    fn layout_of_nested_collections() {
        let value: Value =
            serde_yaml::from_str("a:\n  b: [x, {c: 1, d: [2]}]\n  e: {}\n  f: []\ng: 'yes'\n")
                .unwrap();
        assert_eq!(
            to_yaml(&value),
            "a:\n  b:\n    - x\n    - c: 1\n      d:\n        - 2\n  e: {}\n  f: []\ng: 'yes'\n"
        );
    }

    proptest! {
        #[test]
        fn any_string_reads_back_unchanged(text in any::<String>(), key in "[ -~]{1,12}") {
            let mut map = serde_yaml::Mapping::new();
            map.insert(Value::String(key), Value::Sequence(vec![Value::String(text)]));
            let value = Value::Mapping(map);
            let back: Value = serde_yaml::from_str(&to_yaml(&value)).unwrap();
            prop_assert_eq!(back, value);
        }
    }
}
