//! JSON Schema verdicts for the tests that check the project's schemas (`docs/*.schema.json`):
//! the pinned Python `jsonschema` (draft 2020-12) from the project's `.venv`, one run for many
//! documents.

use std::process::Command;

use serde_json::{Value, json};

use super::moto::python;

const VALIDATE_PY: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
request = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(request["schema"])
validator = Draft202012Validator(request["schema"])
json.dump([
    sorted(e.json_path + ": " + e.message for e in validator.iter_errors(d))
    for d in request["documents"]
], sys.stdout)
"#;

/// The errors of each document against `schema` (empty: valid), in the documents' order; the
/// schema itself must be a valid draft 2020-12 schema.
pub fn errors<'a>(
    schema: &Value,
    documents: impl IntoIterator<Item = &'a Value>,
) -> Vec<Vec<String>> {
    let documents: Vec<&Value> = documents.into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        serde_json::to_vec(&json!({"schema": schema, "documents": documents})).unwrap(),
    )
    .unwrap();
    let output = Command::new(python())
        .arg("-c")
        .arg(VALIDATE_PY)
        .arg(&request)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "jsonschema failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<Vec<String>> =
        serde_json::from_slice(&output.stdout).expect("verdicts are JSON");
    assert_eq!(verdicts.len(), documents.len(), "one verdict per document");
    verdicts
}
