//! A config file as the JSON value its JSON Schema (`docs/config.schema.json`) describes: the
//! file read exactly as validation reads it (the YAML 1.2 core schema, so `yes` is text and an
//! unquoted `0123` is a number), for checking the schema against the validator in tests and for
//! tools that want the config as JSON.

use serde_json::{Map, Number, Value};

use super::yaml::{self, Kind, Node, Scalar};
use super::{Error, Problem};

/// The config `bytes` as JSON. `Err` holds the problems that stop the file from being read as a
/// tree of plain values at all (not UTF-8, a syntax error, several documents, a duplicate key, an
/// alias, a YAML tag other than `!!str`, a non-text key, a non-finite number): rules of the YAML
/// reading that a JSON Schema cannot express, because JSON has no such things.
pub fn document(bytes: &[u8]) -> Result<Value, Error> {
    let invalid = |problems| Error::Invalid {
        path: "config".into(),
        problems,
    };
    let text = std::str::from_utf8(bytes)
        .map_err(|error| invalid(vec![super::not_utf8(bytes, &error)]))?;
    let parsed = yaml::parse(text);
    let Some(root) = parsed.root else {
        return Err(invalid(parsed.problems));
    };
    if !parsed.problems.is_empty() {
        return Err(invalid(parsed.problems));
    }
    to_json(&root).map_err(|problem| invalid(vec![problem]))
}

fn to_json(node: &Node) -> Result<Value, Problem> {
    match node {
        Node::Scalar(scalar) => scalar_json(scalar),
        Node::Mapping { entries, .. } => {
            let mut map = Map::new();
            for entry in entries {
                if entry.key.kind() != Kind::Str || entry.key.tag.is_some() {
                    return Err(unsupported(&entry.key, "a key that is not plain text"));
                }
                map.insert(entry.key.value.clone(), to_json(&entry.value)?);
            }
            Ok(Value::Object(map))
        }
        Node::Sequence { items, .. } => items.iter().map(to_json).collect(),
        Node::Invalid(pos) => Err(Problem::at(
            *pos,
            "",
            None,
            "a value YAML could not give (an alias)",
            "write the value out",
        )),
    }
}

fn scalar_json(scalar: &Scalar) -> Result<Value, Problem> {
    if scalar.tag.as_deref().is_some_and(|tag| tag != "!!str") {
        return Err(unsupported(scalar, "a YAML tag"));
    }
    let text = scalar.value.as_str();
    Ok(match scalar.kind() {
        Kind::Null => Value::Null,
        Kind::Bool(on) => Value::Bool(on),
        Kind::Str => Value::String(scalar.value.clone()),
        Kind::Int => {
            let unsigned = text.strip_prefix('+').unwrap_or(text);
            let radix = |prefix, radix| {
                text.strip_prefix(prefix)
                    .and_then(|digits| i64::from_str_radix(digits, radix).ok())
            };
            unsigned
                .parse::<i64>()
                .ok()
                .or_else(|| radix("0o", 8))
                .or_else(|| radix("0x", 16))
                .map(Number::from)
                .or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64))
                .map(Value::Number)
                .ok_or_else(|| unsupported(scalar, "an integer too large for JSON"))?
        }
        Kind::Float => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| unsupported(scalar, "a number JSON cannot hold (.inf, .nan)"))?,
    })
}

fn unsupported(scalar: &Scalar, what: &str) -> Problem {
    Problem::at(
        scalar.pos,
        "",
        Some(scalar.value.clone()),
        format!("{what} has no JSON equivalent"),
        "write plain text, numbers and booleans only",
    )
}
