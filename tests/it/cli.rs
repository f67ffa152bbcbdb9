//! The binary as users run it (assert_cmd): help and version, usage errors, `validate-config` on
//! every example config (text and JSON snapshots), the configs/reports folder rules, the
//! `S3P_CONFIGS_DIR` variable, paths and globs. No AWS: every command here is local or fails
//! before any AWS call (the endpoint points at a closed port to prove it).

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use crate::support::local::{self, ALL_ACTIONS, example_configs};

/// The actions that never call AWS.
const LOCAL_ACTIONS: &[&str] = &[
    "validate-config",
    "create-prov-template",
    "validate-prov-template",
    "create-policy",
];

const SHARED_SITE: &str = "edge-prod-b001-us-west-1-s3.yaml";

/// The binary with a clean, hermetic environment, run from `cwd`, at a fixed terminal width.
fn provisioner(cwd: &Path) -> Command {
    let mut command = local::provisioner(cwd);
    command.env("COLUMNS", "100");
    command
}

/// A working folder holding a copy of `configs/`, as users run the tool.
fn site() -> tempfile::TempDir {
    local::site_with_all()
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Files in `dir` (names only), sorted; empty when it does not exist.
fn names_in(dir: &Path) -> Vec<String> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = listing
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The JSON result document with its run-specific fields (time, duration) replaced.
fn redacted(document: &str) -> Value {
    let mut value: Value = serde_json::from_str(document).expect("stdout is one JSON document");
    value["started_at"] = Value::String("[started_at]".into());
    value["elapsed_ms"] = Value::String("[elapsed_ms]".into());
    value
}

#[test]
fn help_lists_every_action_and_the_exit_codes() {
    let output = provisioner(Path::new(".")).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = stdout_of(&output);
    for action in ALL_ACTIONS {
        assert!(help.contains(action), "--help lists {action}");
    }
    for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "130 "] {
        assert!(
            help.contains(&format!("\n  {code}")),
            "--help documents exit code {code}"
        );
    }
    insta::assert_snapshot!("help", help);
}

#[test]
fn version_names_the_tool_and_its_version() {
    let output = provisioner(Path::new("."))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout_of(&output).trim(),
        format!("s3-provisioner {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_action_is_a_usage_error_listing_the_actions() {
    let work = site();
    let output = provisioner(work.path())
        .args(["--config", SHARED_SITE, "--action", "deploy-everything"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("deploy-everything"), "{stderr}");
    assert!(stderr.contains("validate-config"), "{stderr}");
    assert!(names_in(&work.path().join("reports")).is_empty());
}

#[test]
fn a_missing_config_option_is_a_usage_error() {
    let output = provisioner(Path::new("."))
        .args(["--action", "validate-config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("--config"));
}

#[test]
fn validate_config_prints_the_derived_names_and_writes_a_report_pair() {
    let work = site();
    let output = provisioner(work.path())
        .args(["--config", SHARED_SITE, "--action", "validate-config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("  bucket            edge-prod-b001-us-west-1-s3\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  stack             edge-prod-b001-us-west-1-s3-stack\n"),
        "{stdout}"
    );
    let reports = names_in(&work.path().join("reports"));
    assert_eq!(reports.len(), 2, "{reports:?}");
    for (name, ext) in reports.iter().zip(["json", "log"]) {
        let prefix = "edge-prod-b001-us-west-1-s3-validate-config-";
        assert!(is_report_name(name, prefix, ext), "{name}");
    }
    let log = std::fs::read_to_string(work.path().join("reports").join(&reports[1])).unwrap();
    assert!(log.contains(" INFO "), "{log}");
}

/// Whether `name` is `{prefix}{yyyymmddThhmmssZ}.{ext}` (the report names of README "Reports").
fn is_report_name(name: &str, prefix: &str, ext: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(&format!(".{ext}")))
    else {
        return false;
    };
    let bytes = stamp.as_bytes();
    bytes.len() == 16
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'T'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'Z'
}

/// The solution each example config is meant for (the Pattern B config names its own).
fn solution_for(config: &str) -> &'static str {
    if config.contains("recommendation-engine") {
        "recommendation-engine"
    } else {
        "master-solution"
    }
}

#[test]
fn validate_config_text_and_json_for_every_example_config() {
    let work = site();
    let configs = example_configs();
    assert!(configs.len() >= 5, "{configs:?}");
    for config in &configs {
        let stem = config.trim_end_matches(".yaml");
        let solution = solution_for(config);
        // As the guide runs it: no --solution (the Pattern B config names its own).
        let text = provisioner(work.path())
            .args(["--config", config, "--action", "validate-config"])
            .output()
            .unwrap();
        assert_eq!(
            text.status.code(),
            Some(0),
            "{config}: {}",
            stderr_of(&text)
        );
        assert!(
            !stderr_of(&text).contains("warning"),
            "{config} has no warnings"
        );
        insta::assert_snapshot!(format!("validate-config-text-{stem}"), stdout_of(&text));

        let json = provisioner(work.path())
            .args([
                "--config",
                config,
                "--action",
                "validate-config",
                "--output",
                "json",
            ])
            .args(["--solution", solution])
            .output()
            .unwrap();
        assert_eq!(json.status.code(), Some(0), "{config}");
        let document = redacted(&stdout_of(&json));
        assert_eq!(document["exit_code"], 0);
        assert_eq!(
            document["result"]["bucket"],
            document["deployment"]["bucket_name"]
        );
        insta::assert_json_snapshot!(format!("validate-config-json-{stem}"), document);
    }
}

#[test]
fn a_solution_whose_bucket_name_would_be_too_long_suggests_the_override() {
    let work = site();
    // 27 (stem) + 1 + 36 = 64 characters.
    let solution = "a-very-long-solution-name-for-churns";
    let output = provisioner(work.path())
        .args(["--config", SHARED_SITE, "--action", "validate-config"])
        .args(["--solution", solution])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("is 64 characters, over S3's limit of 63"),
        "{stderr}"
    );
    assert!(stderr.contains("bucket_name_override"), "{stderr}");
}

#[test]
fn json_output_of_an_invalid_config_carries_the_problems() {
    let work = site();
    let broken = work.path().join("configs/broken.yaml");
    let text = std::fs::read_to_string(work.path().join("configs").join(SHARED_SITE)).unwrap();
    std::fs::write(
        &broken,
        text.replace("region: us-west-1", "region: us-west1"),
    )
    .unwrap();
    let output = provisioner(work.path())
        .args([
            "--config",
            "broken.yaml",
            "--action",
            "validate-config",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let document: Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(document["exit_code"], 2);
    assert_eq!(document["status"], "usage");
    assert_eq!(document["result"], Value::Null);
    let problems = document["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["key_path"], "environment.region");
    assert_eq!(problems[0]["value"], "us-west1");
    assert_eq!(problems[0]["line"], 18); // line 1 is the schema modeline
    assert_eq!(problems[0]["column"], 11);
    assert_eq!(problems[0]["fix"], "did you mean `us-west-1`?");
}

#[test]
fn local_actions_run_without_aws_with_their_exact_exit_codes() {
    let work = site();
    // Before any template is written, validate-prov-template has nothing to check: exit 2,
    // naming the command that writes it.
    let missing = provisioner(work.path())
        .args([
            "--config",
            SHARED_SITE,
            "--action",
            "validate-prov-template",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", stderr_of(&missing));
    assert!(
        stderr_of(&missing).contains("--action create-prov-template"),
        "{}",
        stderr_of(&missing)
    );
    // In the guide's order every local action succeeds.
    for action in LOCAL_ACTIONS {
        let output = provisioner(work.path())
            .args(["--config", SHARED_SITE, "--action", action])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{action}\n{}",
            stderr_of(&output)
        );
    }
}

#[test]
fn aws_actions_reject_an_invalid_config_before_calling_aws() {
    let work = site();
    std::fs::write(work.path().join("configs/broken.yaml"), "client: {}\n").unwrap();
    for action in ALL_ACTIONS.iter().filter(|a| !LOCAL_ACTIONS.contains(a)) {
        // --force where it applies (elsewhere it is a usage error of its own).
        let force: &[&str] = if ["prep-master", "create-bucket", "tear-down"].contains(action) {
            &["--force"]
        } else {
            &[]
        };
        let output = provisioner(work.path())
            .args(["--config", "broken.yaml", "--action", action])
            .args(force)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{action}: {}",
            stderr_of(&output)
        );
        assert!(stderr_of(&output).contains("missing required key `company_name`"));
    }
}

#[test]
fn a_read_only_configs_dir_is_never_written() {
    use std::os::unix::fs::PermissionsExt;
    let work = site();
    let configs = work.path().join("configs");
    let before: Vec<(String, Vec<u8>)> = names_in(&configs)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(configs.join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    std::fs::set_permissions(&configs, std::fs::Permissions::from_mode(0o555)).unwrap();
    let output = provisioner(work.path())
        .args(["--config", "*.yaml", "--action", "validate-config"])
        .output()
        .unwrap();
    std::fs::set_permissions(&configs, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let after: Vec<(String, Vec<u8>)> = names_in(&configs)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(configs.join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    assert_eq!(before, after, "configs/ is unchanged");
    assert_eq!(
        names_in(&work.path().join("reports")).len(),
        2 * before.len(),
        "one report pair per config, all in reports/"
    );
    let mut top = names_in(work.path());
    top.sort();
    assert_eq!(top, ["configs", "reports"]);
}

#[test]
fn the_configs_dir_comes_from_s3p_configs_dir() {
    let work = site();
    let elsewhere = tempfile::tempdir().unwrap();
    let output = provisioner(elsewhere.path())
        .env("S3P_CONFIGS_DIR", work.path().join("configs"))
        .args(["--config", SHARED_SITE, "--action", "validate-config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stdout_of(&output).contains("edge-prod-b001-us-west-1-s3-stack"));
    assert_eq!(names_in(&elsewhere.path().join("reports")).len(), 2);
}

#[test]
fn a_config_with_a_slash_is_a_path() {
    let work = site();
    let sites = work.path().join("sites/west");
    std::fs::create_dir_all(&sites).unwrap();
    std::fs::copy(
        work.path().join("configs").join(SHARED_SITE),
        sites.join("b001.yaml"),
    )
    .unwrap();
    let output = provisioner(work.path())
        .args([
            "--config",
            "sites/west/b001.yaml",
            "--action",
            "validate-config",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stdout_of(&output).starts_with("valid: sites/west/b001.yaml\n"));
    // A bare name is looked up in the configs dir, not the working folder.
    let bare = provisioner(&sites)
        .args(["--config", "b001.yaml", "--action", "validate-config"])
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr_of(&bare).contains("config file configs/b001.yaml not found"));
}

#[test]
fn a_glob_runs_a_fleet_and_exits_with_the_worst_status() {
    let work = site();
    let output = provisioner(work.path())
        .args(["--config", "edge-*.yaml", "--action", "validate-config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    let summary: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("CONFIG"))
        .collect();
    assert_eq!(summary.len(), 1 + example_configs().len(), "{stdout}");
    assert!(
        summary[1..].iter().all(|row| row.contains("ok (0)")),
        "{stdout}"
    );

    std::fs::write(work.path().join("configs/edge-broken.yaml"), "client:\n").unwrap();
    let output = provisioner(work.path())
        .args(["--config", "edge-*.yaml", "--action", "validate-config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stdout = stdout_of(&output);
    assert!(stdout.contains("invalid (2)"), "{stdout}");
    assert_eq!(stdout.matches("ok (0)").count(), example_configs().len());
}

#[test]
fn a_glob_that_matches_nothing_is_a_usage_error() {
    let work = site();
    let output = provisioner(work.path())
        .args(["--config", "acme-*.yaml", "--action", "validate-config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("no config file matches"));
}
