//! test-deploy against a local AWS (moto, through the faithful launcher): it runs without --force,
//! passes every check, and leaves nothing behind; with --keep it leaves the copy and the printed
//! command removes all of it; a name that would be too long stops it before anything is created.

use crate::support;

use serde_json::Value;
use support::{
    MotoServer, Workdir, block_on, bucket_names, closed_port_command, live_stacks, site_config,
    tried_aws,
};

const REGION: &str = "us-west-1";
const CONFIG: &str = "edge-prod-b001-us-west-1-s3.yaml";

fn workdir() -> Workdir {
    let work = Workdir::new();
    work.write_config(
        CONFIG,
        &site_config(
            "b001",
            REGION,
            "versioning: true\nlifecycle_policy: compliance\ntags:\n  Owner: data-science",
        ),
    );
    work
}

/// Buckets and live (not deleted) stacks in the emulator.
fn inventory(server: &MotoServer) -> (Vec<String>, Vec<String>) {
    block_on(async {
        let aws = server.clients(REGION).await;
        (bucket_names(&aws).await, live_stacks(&aws).await)
    })
}

#[test]
fn test_deploy_passes_every_check_and_leaves_nothing_behind() {
    let server = MotoServer::start();
    let work = workdir();
    let output = server
        .command(work.path())
        .args([
            "--config",
            CONFIG,
            "--action",
            "test-deploy",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &document["result"];
    assert_eq!(result["passed"], true, "{result:#}");
    assert_eq!(result["checks"].as_array().unwrap().len(), 10);
    assert_eq!(result["folders_created"], 35);
    let test_id = result["test_id"].as_str().unwrap();
    assert_eq!(
        result["bucket"],
        format!("edge-prod-b001-us-west-1-s3-{test_id}")
    );
    assert_eq!(result["cleanup"]["stack_deleted"], true);
    assert!(stderr.contains("Emptying bucket"), "{stderr}");
    assert_eq!(inventory(&server), (Vec::new(), Vec::new()));

    // Text form: one PASS line per check.
    let text = server
        .command(work.path())
        .args(["--config", CONFIG, "--action", "test-deploy"])
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
    for check in [
        "bucket",
        "versioning",
        "encryption",
        "public-access-block",
        "ownership-controls",
        "lifecycle",
        "tags",
        "bucket-policy",
        "ssm-parameters",
        "folders",
    ] {
        assert!(stdout.contains(&format!("PASS {check}\n")), "{stdout}");
    }
    assert!(
        stdout.contains("every check of test deployment"),
        "{stdout}"
    );
    assert_eq!(inventory(&server), (Vec::new(), Vec::new()));
}

#[test]
fn a_kept_test_deployment_is_removed_by_the_printed_command() {
    let server = MotoServer::start();
    let work = workdir();
    let kept = server
        .command(work.path())
        .args([
            "--config",
            CONFIG,
            "--action",
            "test-deploy",
            "--solution",
            "fraud-detection",
            "--keep",
        ])
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&kept.get_output().stdout).into_owned();
    let (buckets, stacks) = inventory(&server);
    assert_eq!(buckets.len(), 1, "{stdout}");
    assert!(
        buckets[0].starts_with("edge-prod-b001-us-west-1-s3-fraud-detection-t"),
        "{buckets:?}"
    );
    assert_eq!(stacks, [format!("{}-stack", buckets[0])]);

    let command = stdout
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("s3-provisioner "))
        .unwrap_or_else(|| panic!("no removal command printed:\n{stdout}"));
    let test_id = buckets[0].rsplit('-').next().unwrap();
    assert_eq!(
        command,
        format!(
            "s3-provisioner --config {CONFIG} --action tear-down --solution fraud-detection --test-id {test_id} --force"
        )
    );
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    server.command(work.path()).args(&args).assert().code(0);
    assert_eq!(inventory(&server), (Vec::new(), Vec::new()));
}

#[test]
fn a_test_name_that_would_be_too_long_stops_before_anything_is_created() {
    // moto, not a closed port: the name is checked after the account check (one STS call).
    let server = MotoServer::start();
    let work = workdir();
    // `edge-prod-b001-us-west-1-s3-` + 28 letters = 56 characters: valid, but its test copy
    // (+ `-t123456`) would be 64, one over S3's limit.
    let solution = "a".repeat(28);
    let refused = server
        .command(work.path())
        .args([
            "--config",
            CONFIG,
            "--action",
            "test-deploy",
            "--solution",
            &solution,
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("over S3's limit of 63"), "{stderr}");
    assert_eq!(inventory(&server), (Vec::new(), Vec::new()));
}

#[test]
fn test_id_is_checked_and_only_for_tear_down_and_check_drift() {
    // A closed port, not moto: a run that made any AWS call would end "could not be reached".
    let work = workdir();
    for (action, id) in [("tear-down", "t12345"), ("prep-master", "t123456")] {
        let assert = closed_port_command(work.path())
            .args([
                "--config",
                CONFIG,
                "--action",
                action,
                "--test-id",
                id,
                "--force",
            ])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains("--test-id"), "{stderr}");
        assert!(!tried_aws(&stderr), "no AWS call: {stderr}");
    }
}
