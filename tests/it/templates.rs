//! The templates of the example configs in `configs/` (snapshots), and `create-prov-template` /
//! `validate-prov-template` through the binary: exit codes, identical bytes on reruns, stale
//! detection after a config edit, JSON results.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use s3_provisioner::{config, naming, template};

/// The solution each example config is meant to be used with (the dedicated-bucket
/// site's config names its solution; the rest are shared-bucket sites).
fn solution_for(file: &Path) -> &'static str {
    if file.to_string_lossy().contains("recommendation-engine") {
        "recommendation-engine"
    } else {
        naming::MASTER_SOLUTION
    }
}

/// Every `configs/*.yaml`, sorted.
pub fn example_configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "the example configs are in {}",
        dir.display()
    );
    files
}

#[test]
fn example_config_templates() {
    for file in example_configs() {
        let config = config::load(&file).unwrap();
        let deployment = naming::deployment_for_solution(&config, solution_for(&file)).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(name, template::render(&config, &deployment).unwrap());
    }
}

/// A working folder with `configs/` holding a copy of every example config.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("configs")).unwrap();
    for file in example_configs() {
        std::fs::copy(
            &file,
            dir.path().join("configs").join(file.file_name().unwrap()),
        )
        .unwrap();
    }
    dir
}

fn tool(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("s3-provisioner")
        .unwrap()
        .current_dir(dir)
        .env_remove("S3P_CONFIGS_DIR")
        .env_remove("S3P_TEMPLATES_DIR")
        .env_remove("S3P_POLICIES_DIR")
        .env_remove("S3P_REPORTS_DIR")
        .env("NO_COLOR", "1")
        .args(args)
        .assert()
}

const SHARED: &str = "edge-prod-b001-us-west-1-s3.yaml";

#[test]
fn create_twice_gives_identical_bytes_and_validates() {
    let dir = workdir();
    let create = [
        "--config",
        SHARED,
        "--action",
        "create-prov-template",
        "--solution",
        "master-solution",
    ];
    tool(dir.path(), &create)
        .success()
        .stdout(predicates::str::contains(
            "wrote template templates/edge-prod-b001-us-west-1-s3-template.yaml",
        ));
    let path = dir
        .path()
        .join("templates/edge-prod-b001-us-west-1-s3-template.yaml");
    let first = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    tool(dir.path(), &create).success();
    assert_eq!(std::fs::read(&path).unwrap(), first);
    tool(
        dir.path(),
        &["--config", SHARED, "--action", "validate-prov-template"],
    )
    .success()
    .stdout(predicates::str::contains("is valid"));
}

#[test]
fn dedicated_template_for_the_seed_guides_pattern_b_config() {
    let dir = workdir();
    let config = "edge-prod-b001-us-west-1-recommendation-engine-s3.yaml";
    let args = [
        "--config",
        config,
        "--solution",
        "recommendation-engine",
        "--action",
    ];
    tool(dir.path(), &[&args[..], &["create-prov-template"]].concat()).success();
    let path = dir
        .path()
        .join("templates/edge-prod-b001-us-west-1-s3-recommendation-engine-template.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("BucketName: edge-prod-b001-us-west-1-recommendation-engine-s3"));
    tool(
        dir.path(),
        &[&args[..], &["validate-prov-template"]].concat(),
    )
    .success();
}

#[test]
fn editing_the_config_makes_the_template_stale() {
    let dir = workdir();
    tool(
        dir.path(),
        &["--config", SHARED, "--action", "create-prov-template"],
    )
    .success();
    let config = dir.path().join("configs").join(SHARED);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("Site: b001", "Site: b001-east")).unwrap();
    let assert = tool(
        dir.path(),
        &[
            "--config",
            SHARED,
            "--action",
            "validate-prov-template",
            "--output",
            "json",
        ],
    )
    .code(2);
    let document: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(document["exit_code"], 2);
    assert_eq!(document["result"]["stale"], true);
    let findings = document["result"]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["property"] == "S3Provisioner.ConfigSha256"),
        "{findings:?}"
    );
    tool(dir.path(), &["--config", SHARED, "--action", "validate-prov-template"])
        .code(2)
        .stdout(predicates::str::contains(
            "is stale; regenerate it with: s3-provisioner --config edge-prod-b001-us-west-1-s3.yaml --action create-prov-template --solution master-solution",
        ));
}

#[test]
fn missing_template_is_a_usage_error_naming_the_fix() {
    let dir = workdir();
    tool(dir.path(), &["--config", SHARED, "--action", "validate-prov-template"])
        .code(2)
        .stderr(predicates::str::contains(
            "does not exist; create it with: s3-provisioner --config edge-prod-b001-us-west-1-s3.yaml --action create-prov-template --solution master-solution",
        ));
}
