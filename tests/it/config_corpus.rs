//! The corpus of broken configs (`tests/fixtures/invalid/`) through the real binary: each file
//! breaks one rule (or is garbage: binary, UTF-16, a YAML bomb, a tab-indented file…), and must
//! make `validate-config` exit 2 with a message naming `file:line:column` (or the whole file) and
//! that rule, without writing anything but the run's report pair. Every file in the folder must
//! have a row in [`EXPECTATIONS`], so each file proves its own rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// file → position of the problem (`line:column`, `None` for a whole-file problem) → a substring
/// of the rule it breaks.
const EXPECTATIONS: &[(&str, Option<&str>, &str)] = &[
    (
        "account-id-short.yaml",
        Some("5:15"),
        "must be exactly 12 digits",
    ),
    (
        "account-id-unquoted.yaml",
        Some("5:15"),
        "must be a quoted string: YAML reads the unquoted 012345678901 as a number",
    ),
    ("binary.yaml", Some("2:118"), "not valid UTF-8"),
    (
        "bucket-override-double-dot.yaml",
        Some("11:25"),
        "must not contain `..`",
    ),
    (
        "bucket-override-ip-address.yaml",
        Some("11:25"),
        "must not look like an IP address",
    ),
    (
        "bucket-override-s3alias-suffix.yaml",
        Some("11:25"),
        "must not end with `-s3alias`",
    ),
    (
        "bucket-override-too-long.yaml",
        Some("11:25"),
        "over S3's limit of 63",
    ),
    (
        "bucket-override-too-short.yaml",
        Some("11:25"),
        "at least 3 characters",
    ),
    (
        "bucket-override-uppercase.yaml",
        Some("11:25"),
        "only lowercase letters, digits",
    ),
    (
        "bucket-override-xn-prefix.yaml",
        Some("11:25"),
        "must not start with `xn--`",
    ),
    ("company-name-empty.yaml", Some("3:17"), "must not be empty"),
    (
        "company-name-number.yaml",
        Some("3:17"),
        "must be text, but YAML reads the unquoted 2024 as a number",
    ),
    (
        "company-prefix-hyphen.yaml",
        Some("4:19"),
        "must be 1-20 lowercase letters or digits",
    ),
    (
        "company-prefix-too-long.yaml",
        Some("4:19"),
        "must be 1-20 lowercase letters or digits",
    ),
    (
        "company-prefix-uppercase.yaml",
        Some("4:19"),
        "must be 1-20 lowercase letters or digits",
    ),
    (
        "complex-key.yaml",
        Some("8:5"),
        "a key must be a plain name",
    ),
    (
        "custom-tag.yaml",
        Some("8:8"),
        "YAML tag `!Ref` is not supported",
    ),
    (
        "deep-nesting.yaml",
        Some("18:25"),
        "nesting is deeper than 16 levels",
    ),
    (
        "duplicate-key.yaml",
        Some("9:3"),
        "duplicate key `env` (first written at line 8",
    ),
    (
        "duplicate-section.yaml",
        Some("19:1"),
        "duplicate key `environment` (first written at line 7",
    ),
    (
        "empty-section.yaml",
        Some("7:1"),
        "section `environment:` is empty",
    ),
    ("empty.yaml", None, "the file is empty"),
    (
        "env-invalid.yaml",
        Some("8:8"),
        "must be one of prod, dev, test, staging",
    ),
    ("latin1.yaml", Some("3:26"), "not valid UTF-8: byte 0xE9"),
    (
        "lifecycle-invalid.yaml",
        Some("13:21"),
        "must be one of ml-optimized, compliance, development, none",
    ),
    (
        "list-document.yaml",
        Some("2:1"),
        "the top level must be a mapping",
    ),
    (
        "merge-key-alias.yaml",
        Some("19:13"),
        "YAML aliases (`*name`) are not supported",
    ),
    (
        "misplaced-key.yaml",
        Some("7:3"),
        "unknown key `region` in client",
    ),
    (
        "missing-account-id.yaml",
        Some("2:1"),
        "missing required key `account_id`",
    ),
    (
        "missing-client.yaml",
        Some("2:1"),
        "missing required section `client:`",
    ),
    (
        "missing-environment.yaml",
        Some("2:1"),
        "missing required section `environment:`",
    ),
    (
        "nul-bytes.yaml",
        Some("3:7"),
        "YAML syntax error: found unprintable character",
    ),
    ("only-comments.yaml", None, "the file is empty"),
    (
        "region-availability-zone.yaml",
        Some("9:11"),
        "is not a known AWS region code",
    ),
    ("region-govcloud.yaml", Some("9:11"), "aws-us-gov partition"),
    (
        "region-unknown.yaml",
        Some("9:11"),
        "is not a known AWS region code",
    ),
    (
        "route-table-invalid.yaml",
        Some("15:20"),
        "`subnet-0a1b2c3d` is not `rtb-`",
    ),
    (
        "route-tables-as-list.yaml",
        Some("16:5"),
        "must be one comma-separated string, not a list",
    ),
    (
        "route-tables-without-vpc.yaml",
        Some("15:20"),
        "is set but vpc_id is not",
    ),
    (
        "scalar-document.yaml",
        Some("2:1"),
        "the top level must be a mapping",
    ),
    (
        "section-is-scalar.yaml",
        Some("7:14"),
        "section `environment:` must be a mapping of keys",
    ),
    (
        "syntax-bad-indentation.yaml",
        Some("9:2"),
        "YAML syntax error",
    ),
    (
        "syntax-colon-in-value.yaml",
        Some("3:21"),
        "YAML syntax error: mapping values are not allowed",
    ),
    (
        "syntax-unclosed-quote.yaml",
        Some("3:17"),
        "YAML syntax error",
    ),
    (
        "tab-indented.yaml",
        Some("3:2"),
        "YAML syntax error: tabs disallowed",
    ),
    ("tag-key-aws-prefix.yaml", Some("19:5"), "reserved by AWS"),
    (
        "tag-key-too-long.yaml",
        Some("19:5"),
        "over AWS's limit of 128",
    ),
    (
        "tag-key-tool-namespace.yaml",
        Some("19:5"),
        "reserved for the tool's own tags",
    ),
    (
        "tag-value-bad-characters.yaml",
        Some("18:12"),
        "characters AWS does not allow",
    ),
    (
        "tag-value-boolean.yaml",
        Some("18:15"),
        "tag values must be text, but YAML reads the unquoted true as a boolean",
    ),
    ("tag-value-null.yaml", Some("18:5"), "YAML reads as null"),
    (
        "tag-value-number.yaml",
        Some("18:17"),
        "tag values must be text, but YAML reads the unquoted 4410 as a number",
    ),
    (
        "tag-value-too-long.yaml",
        Some("18:12"),
        "over AWS's limit of 256",
    ),
    (
        "tags-as-list.yaml",
        Some("17:5"),
        "must be a mapping of `Key: value` lines",
    ),
    (
        "tags-too-many.yaml",
        Some("16:3"),
        "41 tags, over the limit of 40",
    ),
    (
        "tenant-id-too-long.yaml",
        Some("6:14"),
        "must be exactly 4 lowercase letters or digits",
    ),
    (
        "tenant-id-unquoted.yaml",
        Some("6:14"),
        "must be a quoted string: YAML reads the unquoted 0001 as a number",
    ),
    (
        "tenant-id-uppercase.yaml",
        Some("6:14"),
        "must be exactly 4 lowercase letters or digits",
    ),
    (
        "two-documents.yaml",
        Some("19:1"),
        "more than one YAML document",
    ),
    (
        "unknown-key-typo.yaml",
        Some("3:3"),
        "unknown key `compnay_name`",
    ),
    (
        "unknown-top-level-key.yaml",
        Some("19:1"),
        "unknown key `bucket` in the top level",
    ),
    (
        "utf16.yaml",
        Some("1:1"),
        "not valid UTF-8: byte 0xFF at byte offset 0",
    ),
    (
        "value-is-mapping.yaml",
        Some("10:5"),
        "must be a single value, but it is a mapping",
    ),
    (
        "versioning-quoted.yaml",
        Some("12:15"),
        "must be a boolean, but the quotes make it text",
    ),
    (
        "versioning-yes.yaml",
        Some("12:15"),
        "`yes` is not a boolean in YAML 1.2",
    ),
    (
        "vpc-id-invalid.yaml",
        Some("14:11"),
        "must be `vpc-` followed by 8 or 17",
    ),
    (
        "vpc-without-route-tables.yaml",
        Some("15:20"),
        "is required when vpc_id is set",
    ),
    (
        "yaml-bomb.yaml",
        Some("2:4"),
        "YAML anchors (`&name`) are not supported",
    ),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid")
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                found.push(relative.display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// Run `validate-config` on `config` from an empty working folder; check exit 2, the located
/// rule on stderr, nothing on stdout and nothing written but `reports/`'s .log/.json pair.
fn assert_rejected(config: &Path, position: Option<&str>, rule: &str) {
    let work = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("s3-provisioner")
        .unwrap()
        .current_dir(work.path())
        .env_remove("S3P_REPORTS_DIR")
        .args(["--action", "validate-config", "--no-color", "--config"])
        .arg(config)
        .output()
        .unwrap();
    let name = config.display();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{name}: exit code\n{stderr}");
    assert!(output.stdout.is_empty(), "{name}: stdout must stay empty");
    let located = match position {
        Some(position) => format!("{}:{position}: ", config.display()),
        None => format!("{}: ", config.display()),
    };
    assert!(
        stderr
            .lines()
            .any(|line| line.contains(&located) && line.contains(rule)),
        "{name}: expected a line with `{located}` and `{rule}` in:\n{stderr}"
    );
    assert!(
        stderr.contains("fix: "),
        "{name}: every problem says how to fix it"
    );
    let written = files_under(work.path());
    assert_eq!(
        written.len(),
        2,
        "{name}: only the report pair is written: {written:?}"
    );
    assert!(
        written.iter().all(|f| f.starts_with("reports/")),
        "{name}: {written:?}"
    );
    let log = written
        .iter()
        .find(|f| Path::new(f).extension().is_some_and(|ext| ext == "log"))
        .expect("a .log report");
    let log = std::fs::read_to_string(work.path().join(log)).unwrap();
    assert!(
        log.contains(" ERROR "),
        "{name}: the report records the error"
    );
}

#[test]
fn every_invalid_config_is_rejected_with_its_rule_and_position() {
    let on_disk: BTreeSet<String> = files_under(&fixtures()).into_iter().collect();
    let listed: BTreeSet<String> = EXPECTATIONS.iter().map(|(f, ..)| (*f).to_owned()).collect();
    assert_eq!(on_disk, listed, "every fixture has exactly one expectation");
    assert!(
        on_disk.len() >= 40,
        "the corpus holds at least 40 broken configs"
    );
    for (file, position, rule) in EXPECTATIONS {
        assert_rejected(&fixtures().join(file), *position, rule);
    }
}

#[test]
fn a_file_over_one_mebibyte_is_refused_by_its_size() {
    // Generated rather than committed: 2 MiB of comment lines after a valid-looking start.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let mut text = String::from("client:\n  company_name: Edge Corp\n");
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    while text.len() < 2 * 1024 * 1024 {
        text.push_str(line);
    }
    std::fs::write(&path, &text).unwrap();
    assert_rejected(&path, None, "over the 1048576-byte (1 MiB) limit");
}

#[test]
fn a_directory_is_not_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("configs.yaml");
    std::fs::create_dir(&path).unwrap();
    assert_rejected(&path, None, "is a directory, not a config file");
}

#[test]
fn a_missing_config_lists_the_ones_that_exist() {
    let work = tempfile::tempdir().unwrap();
    let configs = work.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    std::fs::write(configs.join("edge-prod-b001-us-west-1-s3.yaml"), "x: 1\n").unwrap();
    let output = Command::cargo_bin("s3-provisioner")
        .unwrap()
        .current_dir(work.path())
        .env_remove("S3P_CONFIGS_DIR")
        .args([
            "--action",
            "validate-config",
            "--config",
            "edge-prod-b001-us-west1-s3.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("config file configs/edge-prod-b001-us-west1-s3.yaml not found; did you mean edge-prod-b001-us-west-1-s3.yaml? configs in configs/: edge-prod-b001-us-west-1-s3.yaml."),
        "{stderr}"
    );
    assert!(stderr.contains("--configs-dir"), "{stderr}");
}
