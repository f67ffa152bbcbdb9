//! `docs/config.schema.json` (the JSON Schema editors use through the configs' `yaml-language-server`
//! modeline) against the validator: every shipped config passes it; every broken fixture of
//! `tests/fixtures/invalid/` whose rule a schema can express fails it; the rest are listed below
//! with the reason; its keys, enums and limits are the validator's own tables; and on a set of
//! probe values per field the schema and the validator give the same verdict.
//!
//! Files are read into JSON by `config::json::document`, the validator's own YAML reading, so the
//! schema sees the types the tool sees (YAML 1.2: `yes` is text, unquoted `0123` a number). The
//! schema is checked by the pinned Python `jsonschema` (draft 2020-12) from the project's `.venv`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use s3_provisioner::config::{self, Env, LifecyclePreset, regions};
use serde_json::{Value, json};

use crate::support;

/// Fixtures that are not a tree of plain values at all: their rule is part of reading the YAML
/// (bytes, syntax, documents, duplicate keys, aliases, tags), which happens before any schema.
const NOT_JSON: &[(&str, &str)] = &[
    ("binary.yaml", "not UTF-8"),
    ("latin1.yaml", "not UTF-8"),
    ("utf16.yaml", "not UTF-8"),
    ("nul-bytes.yaml", "NUL bytes are a YAML syntax error"),
    ("complex-key.yaml", "a list as a key has no JSON form"),
    ("custom-tag.yaml", "YAML tags have no JSON form"),
    ("deep-nesting.yaml", "the reader's depth limit"),
    (
        "duplicate-key.yaml",
        "JSON objects cannot show a duplicate key",
    ),
    (
        "duplicate-section.yaml",
        "JSON objects cannot show a duplicate key",
    ),
    ("merge-key-alias.yaml", "aliases are refused while reading"),
    ("yaml-bomb.yaml", "aliases are refused while reading"),
    (
        "two-documents.yaml",
        "several documents are refused while reading",
    ),
    ("syntax-bad-indentation.yaml", "a YAML syntax error"),
    ("syntax-colon-in-value.yaml", "a YAML syntax error"),
    ("syntax-unclosed-quote.yaml", "a YAML syntax error"),
    ("tab-indented.yaml", "a YAML syntax error"),
    ("empty.yaml", "no mapping at the top"),
    ("only-comments.yaml", "no mapping at the top"),
    ("list-document.yaml", "no mapping at the top"),
    ("scalar-document.yaml", "no mapping at the top"),
];

/// Rules of the validator a JSON Schema cannot express (the schema accepts these probes, the
/// validator rejects them): `(field, value, why)`. Every other probe gets the same verdict from both.
const BEYOND_SCHEMA: &[(&str, &str, &str)] = &[
    (
        "route_table_ids",
        "\"rtb-0a1b2c3d,rtb-0a1b2c3d\"",
        "a route table listed twice: a schema cannot compare the items of one string",
    ),
    (
        "tag_value",
        "\"price in €\"",
        "the validator allows only Unicode letters and digits beyond ASCII; a pattern portable to \
         every JSON Schema engine (no \\p{L}) can only exclude ASCII punctuation and controls",
    ),
    (
        "tag_key",
        "\"Owner ✓\"",
        "the same character rule for tag keys",
    ),
];
// Also beyond a schema, and without a probe here: the derived bucket name (the stem joined with
// the solution, at most 63 characters) and stack name (at most 128), which are built from several
// fields (and, for a dedicated bucket, from `solution`/`--solution`).

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> Value {
    let text = std::fs::read_to_string(repo().join("docs/config.schema.json")).unwrap();
    serde_json::from_str(&text).expect("docs/config.schema.json is JSON")
}

/// Schema errors per document (empty: valid), in one Python run.
fn schema_errors(
    schema: &Value,
    documents: &BTreeMap<String, Value>,
) -> BTreeMap<String, Vec<String>> {
    let verdicts = support::schema::errors(schema, documents.values());
    documents.keys().cloned().zip(verdicts).collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_shipped_config_passes_the_schema_and_names_it() {
    let mut documents = BTreeMap::new();
    for path in yaml_files(&repo().join("configs")) {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(
            text.lines().next(),
            Some("# yaml-language-server: $schema=../docs/config.schema.json"),
            "{} starts with the schema modeline",
            path.display()
        );
        config::from_bytes(&path, &bytes).expect("shipped configs are valid");
        documents.insert(name(&path), config::json::document(&bytes).unwrap());
    }
    assert!(documents.len() >= 5);
    for (name, errors) in schema_errors(&schema(), &documents) {
        assert!(errors.is_empty(), "{name} fails the schema: {errors:#?}");
    }
}

#[test]
fn the_schema_rejects_every_invalid_fixture_whose_rule_it_can_express() {
    let not_json: BTreeSet<&str> = NOT_JSON.iter().map(|(n, _)| *n).collect();
    let mut documents = BTreeMap::new();
    let mut unreadable = BTreeSet::new();
    for path in yaml_files(&repo().join("tests/fixtures/invalid")) {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            config::from_bytes(&path, &bytes).is_err(),
            "{} is rejected by the validator",
            path.display()
        );
        match config::json::document(&bytes) {
            Ok(document) => {
                documents.insert(name(&path), document);
            }
            Err(_) => {
                unreadable.insert(name(&path));
            }
        }
    }
    assert_eq!(
        unreadable
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        not_json,
        "NOT_JSON lists exactly the fixtures that cannot be read as JSON"
    );
    let verdicts = schema_errors(&schema(), &documents);
    let accepted: Vec<&String> = verdicts
        .iter()
        .filter(|(_, errors)| errors.is_empty())
        .map(|(name, _)| name)
        .collect();
    assert!(
        accepted.is_empty(),
        "fixtures the schema accepts although the validator rejects them: {accepted:?}"
    );
    assert_eq!(
        verdicts.len() + not_json.len(),
        yaml_files(&repo().join("tests/fixtures/invalid")).len()
    );
}

/// A valid config with `{field}` placeholders; [`probe_config`] fills them.
const PROBE_TEMPLATE: &str = "\
client:
  company_name: {company_name}
  company_prefix: {company_prefix}
  account_id: {account_id}
  tenant_id: {tenant_id}
environment:
  env: {env}
  region: {region}
s3:
  bucket_name_override: {bucket_name_override}
  versioning: {versioning}
  lifecycle_policy: {lifecycle_policy}
  vpc_id: {vpc_id}
  route_table_ids: {route_table_ids}
  tags:
    {tag_key}: {tag_value}
{more_tags}";

const DEFAULTS: &[(&str, &str)] = &[
    ("company_name", "Edge Corp"),
    ("company_prefix", "edge"),
    ("account_id", "\"123456789012\""),
    ("tenant_id", "\"b001\""),
    ("env", "prod"),
    ("region", "us-west-1"),
    ("bucket_name_override", "\"\""),
    ("versioning", "true"),
    ("lifecycle_policy", "ml-optimized"),
    ("vpc_id", "\"\""),
    ("route_table_ids", "\"\""),
    ("tag_key", "Owner"),
    ("tag_value", "data-science"),
    ("more_tags", ""),
];

fn probe_config(overrides: &[(&str, &str)]) -> String {
    let mut text = PROBE_TEMPLATE.to_owned();
    for (field, default) in DEFAULTS {
        let value = overrides
            .iter()
            .find(|(f, _)| f == field)
            .map_or(*default, |(_, v)| *v);
        text = text.replace(&format!("{{{field}}}"), value);
    }
    text
}

/// `(overrides, the validator accepts it)`: the verdicts the schema must match.
fn probes() -> Vec<(Vec<(&'static str, String)>, bool)> {
    let one = |field: &'static str, value: &str, ok: bool| (vec![(field, value.to_owned())], ok);
    let long = |n: usize| "a".repeat(n);
    let extra_tags = |n: usize| -> String {
        (1..=n)
            .map(|i| format!("    T{i}: v"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let forty_more = extra_tags(40);
    let thirty_nine_more = extra_tags(39);
    let mut probes = vec![
        one("company_name", "Edge Corp", true),
        one("company_name", "\"\"", false),
        one("company_name", "\"   \"", false),
        one("company_name", "1234", false),
        one("company_prefix", "e2", true),
        one("company_prefix", &long(20), true),
        one("company_prefix", &long(21), false),
        one("company_prefix", "Edge", false),
        one("company_prefix", "1edge", false),
        one("company_prefix", "ed-ge", false),
        one("account_id", "\"012345678901\"", true),
        one("account_id", "012345678901", false),
        one("account_id", "\"12345678901\"", false),
        one("account_id", "\"1234-5678-9012\"", false),
        one("tenant_id", "b001", true),
        one("tenant_id", "\"0001\"", true),
        one("tenant_id", "0001", false),
        one("tenant_id", "B001", false),
        one("tenant_id", "b0001", false),
        one("env", "production", false),
        one("env", "Prod", false),
        one("region", "us-west-1a", false),
        one("region", "us-gov-west-1", false),
        one("region", "US-WEST-1", false),
        one("bucket_name_override", "~", true),
        one("bucket_name_override", "edge-data.v2", true),
        one("bucket_name_override", &long(63), true),
        one("bucket_name_override", &long(64), false),
        one("bucket_name_override", "ab", false),
        one("bucket_name_override", "a.b..c", false),
        one("bucket_name_override", "\"192.168.1.1\"", false),
        one("bucket_name_override", "\"256.1.1.1\"", true),
        one("bucket_name_override", "xn--abc", false),
        one("bucket_name_override", "sthree-abc", false),
        one("bucket_name_override", "abc-s3alias", false),
        one("bucket_name_override", "abc--ol-s3", false),
        one("bucket_name_override", "Abc", false),
        one("bucket_name_override", "-abc", false),
        one("bucket_name_override", "abc.", false),
        one("bucket_name_override", "1234", false),
        one("versioning", "false", true),
        one("versioning", "yes", false),
        one("versioning", "\"true\"", false),
        one("versioning", "~", false),
        one("lifecycle_policy", "\"\"", true),
        one("lifecycle_policy", "~", true),
        one("lifecycle_policy", "ML-optimized", false),
        one("vpc_id", "vpc-0a1b2c3d", false),
        one("route_table_ids", "rtb-0a1b2c3d", false),
        one("route_table_ids", "\"   \"", true),
        one("tag_key", "aws:owner", false),
        one("tag_key", "AWS:owner", false),
        one("tag_key", "s3-provisioner:owner", false),
        one("tag_key", "S3-Provisioner:owner", false),
        one("tag_key", &long(128), true),
        one("tag_key", &long(129), false),
        one("tag_key", "Équipe", true),
        one("tag_key", "\"a;b\"", false),
        one("tag_value", &long(256), true),
        one("tag_value", &long(257), false),
        one("tag_value", "\"4410\"", true),
        one("tag_value", "4410", false),
        one("tag_value", "~", false),
        one("tag_value", "\"naïve café @ a/b=c+d\"", true),
        one("tag_value", "\"x;y\"", false),
        one("tag_value", "\"a\\tb\"", false),
        one("more_tags", &thirty_nine_more, true),
        one("more_tags", &forty_more, false),
        one("unknown", "", true),
    ];
    for env in ["prod", "dev", "test", "staging"] {
        probes.push(one("env", env, true));
    }
    for region in regions::KNOWN_REGIONS {
        probes.push(one("region", region, true));
    }
    for preset in LifecyclePreset::ALL {
        probes.push(one("lifecycle_policy", preset.as_str(), true));
    }
    let vpc = |vpc: &str, tables: &str, ok| {
        (
            vec![
                ("vpc_id", vpc.to_owned()),
                ("route_table_ids", tables.to_owned()),
            ],
            ok,
        )
    };
    probes.extend([
        vpc("vpc-0a1b2c3d", "rtb-0a1b2c3d", true),
        vpc(
            "vpc-0a1b2c3d4e5f67890",
            "\"rtb-0a1b2c3d, rtb-4e5f6a7b4c3d2e1f0\"",
            true,
        ),
        vpc("vpc-0A1B2C3D", "rtb-0a1b2c3d", false),
        vpc("vpc-0a1b2c3", "rtb-0a1b2c3d", false),
        vpc("vpc-0a1b2c3d", "\"\"", false),
        vpc("vpc-0a1b2c3d", "\"rtb-0a1b2c3d,,rtb-4e5f6a7b\"", false),
        vpc("vpc-0a1b2c3d", "\"rtb-0a1b2c3d,\"", false),
        vpc("vpc-0a1b2c3d", "\"rtb-0a1b2c3e9\"", false),
    ]);
    for (field, value, _) in BEYOND_SCHEMA {
        let mut overrides = vec![(*field, (*value).to_owned())];
        if *field == "route_table_ids" {
            overrides.push(("vpc_id", "vpc-0a1b2c3d".to_owned()));
        }
        probes.push((overrides, false));
    }
    probes
}

#[test]
fn schema_and_validator_agree_on_probe_values() {
    let mut documents = BTreeMap::new();
    let mut expected = BTreeMap::new();
    for (index, (overrides, ok)) in probes().into_iter().enumerate() {
        let overrides: Vec<(&str, &str)> =
            overrides.iter().map(|(f, v)| (*f, v.as_str())).collect();
        let text = probe_config(&overrides);
        let validator_ok = config::from_bytes(Path::new("probe.yaml"), text.as_bytes()).is_ok();
        assert_eq!(
            validator_ok, ok,
            "the validator's verdict on probe {overrides:?}:\n{text}"
        );
        let beyond = BEYOND_SCHEMA
            .iter()
            .any(|(field, value, _)| overrides.contains(&(*field, *value)));
        let key = format!("{index:03} {overrides:?}");
        documents.insert(
            key.clone(),
            config::json::document(text.as_bytes()).unwrap(),
        );
        expected.insert(key, ok || beyond);
    }
    let verdicts = schema_errors(&schema(), &documents);
    let disagreements: Vec<String> = verdicts
        .iter()
        .filter(|(key, errors)| errors.is_empty() != expected[*key])
        .map(|(key, errors)| format!("{key}: schema errors {errors:?}"))
        .collect();
    assert!(
        disagreements.is_empty(),
        "schema and validator disagree:\n{}",
        disagreements.join("\n")
    );
}

/// Every `properties` key of an object schema, as key paths under `prefix`.
fn schema_keys(node: &Value, prefix: &str, keys: &mut BTreeSet<String>) {
    let Some(properties) = node["properties"].as_object() else {
        return;
    };
    assert_eq!(
        node["additionalProperties"],
        Value::Bool(false),
        "`{prefix}` refuses unknown keys, as the validator does"
    );
    for (key, child) in properties {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        schema_keys(child, &path, keys);
        keys.insert(path);
    }
}

#[test]
fn the_schema_has_the_validators_keys_enums_and_limits() {
    let schema = schema();
    let mut keys = BTreeSet::new();
    schema_keys(&schema, "", &mut keys);
    let mut validator_keys: BTreeSet<String> = config::key_paths().into_iter().collect();
    // The optional top-level `solution` key (the config's default `--solution`).
    validator_keys.insert("solution".to_owned());
    assert_eq!(keys, validator_keys);
    let required = |node: &Value| -> BTreeSet<String> {
        node["required"]
            .as_array()
            .map(|r| r.iter().map(|k| k.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        required(&schema),
        BTreeSet::from(["client".into(), "environment".into()])
    );
    assert_eq!(required(&schema["properties"]["client"]).len(), 4);
    assert_eq!(required(&schema["properties"]["environment"]).len(), 2);
    let strings = |node: &Value| -> Vec<String> {
        node.as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let environment = &schema["properties"]["environment"]["properties"];
    assert_eq!(
        strings(&environment["region"]["enum"]),
        regions::KNOWN_REGIONS
    );
    let envs: Vec<&str> = Env::ALL.iter().map(|e| e.as_str()).collect();
    assert_eq!(strings(&environment["env"]["enum"]), envs);
    let s3 = &schema["properties"]["s3"]["properties"];
    let mut presets: Vec<&str> = LifecyclePreset::ALL.iter().map(|p| p.as_str()).collect();
    presets.push("");
    assert_eq!(strings(&s3["lifecycle_policy"]["enum"]), presets);
    let tags = &s3["tags"];
    assert_eq!(tags["maxProperties"], json!(config::MAX_USER_TAGS));
    assert_eq!(
        tags["propertyNames"]["maxLength"],
        json!(config::TAG_KEY_MAX)
    );
    assert_eq!(
        tags["additionalProperties"]["maxLength"],
        json!(config::TAG_VALUE_MAX)
    );
}
