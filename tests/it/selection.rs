//! How a run picks its solution and deployment, through the binary: the config's `solution:` key
//! (the shipped Pattern B example carries one), a conflicting `--solution`, and the fleet
//! pre-check that refuses two configs resolving to the same stack, bucket or file before anything
//! starts; and options given to an action they do not apply to. No AWS: the endpoint points at a
//! closed port, and every run here stops before it.

use std::path::Path;

use crate::support::local::{self, provisioner};

const SHARED: &str = "edge-prod-b001-us-west-1-s3.yaml";
const DEDICATED: &str = "edge-prod-b001-us-west-1-recommendation-engine-s3.yaml";

/// A working folder with a copy of the repo's `configs/`.
fn site() -> tempfile::TempDir {
    local::site_with_all()
}

fn run(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = provisioner(cwd).args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The Pattern B example as it was before it carried `solution:` (so it resolves to the shared
/// stack unless `--solution` says otherwise).
fn strip_solution_key(work: &Path) {
    let path = work.join("configs").join(DEDICATED);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\nsolution: recommendation-engine\n"));
    std::fs::write(
        &path,
        text.replace("\nsolution: recommendation-engine\n", "\n"),
    )
    .unwrap();
}

#[test]
fn the_pattern_b_example_carries_its_solution() {
    let work = site();
    let (code, stdout, stderr) = run(
        work.path(),
        &["--config", DEDICATED, "--action", "validate-config"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("edge-prod-b001-us-west-1-s3-recommendation-engine-stack"),
        "{stdout}"
    );
    // The guide's create-bucket names the same solution; the template is the dedicated one.
    let (code, _, stderr) = run(
        work.path(),
        &[
            "--config",
            DEDICATED,
            "--action",
            "create-prov-template",
            "--solution",
            "recommendation-engine",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        work.path()
            .join("templates/edge-prod-b001-us-west-1-s3-recommendation-engine-template.yaml")
            .is_file()
    );
}

#[test]
fn a_different_solution_on_the_command_line_is_a_usage_error() {
    let work = site();
    let (code, _, stderr) = run(
        work.path(),
        &[
            "--config",
            DEDICATED,
            "--action",
            "validate-config",
            "--solution",
            "master-solution",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "--solution master-solution does not match `solution: recommendation-engine`"
        ),
        "{stderr}"
    );
}

#[test]
fn shared_bucket_actions_refuse_a_config_that_names_another_solution() {
    let work = site();
    for args in [
        &["--action", "prep-master", "--force"][..],
        &[
            "--action",
            "deploy-solution",
            "--solution",
            "recommendation-engine",
        ][..],
    ] {
        let (code, _, stderr) = run(work.path(), &[&["--config", DEDICATED][..], args].concat());
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("dedicated bucket"), "{args:?}: {stderr}");
        assert!(stderr.contains("create-bucket"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_fleet_whose_configs_share_a_stack_is_refused_before_anything_starts() {
    let work = site();
    strip_solution_key(work.path());
    let (code, _, stderr) = run(
        work.path(),
        &[
            "--config",
            "edge-*.yaml",
            "--action",
            "prep-master",
            "--force",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    for needle in [
        SHARED,
        DEDICATED,
        "stack edge-prod-b001-us-west-1-s3-stack",
        "Nothing was started",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(
        !work.path().join("reports").exists(),
        "no run started, so no report was written"
    );
    // Local actions too: two configs would write one template file.
    let (code, _, stderr) = run(
        work.path(),
        &[
            "--config",
            "edge-*.yaml",
            "--action",
            "create-prov-template",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("template file"), "{stderr}");
    assert!(!work.path().join("templates").exists());
}

#[test]
fn a_fleet_sharing_a_bucket_through_an_override_is_refused() {
    let work = site();
    // A second site whose override names the Pattern B example's bucket.
    let text = std::fs::read_to_string(work.path().join("configs").join(DEDICATED)).unwrap();
    let other = text
        .replace("tenant_id: \"b001\"", "tenant_id: \"b009\"")
        .replace("\nsolution: recommendation-engine\n", "\n");
    std::fs::write(work.path().join("configs/other-site.yaml"), other).unwrap();
    let (code, _, stderr) = run(
        work.path(),
        &[
            "--config",
            DEDICATED,
            "--config",
            "other-site.yaml",
            "--action",
            "validate-config",
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("bucket edge-prod-b001-us-west-1-recommendation-engine-s3"),
        "{stderr}"
    );
}

#[test]
fn the_repos_own_configs_form_a_fleet_without_collisions() {
    let work = site();
    let (code, _, stderr) = run(
        work.path(),
        &[
            "--config",
            "edge-*.yaml",
            "--action",
            "create-prov-template",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let written = std::fs::read_dir(work.path().join("templates"))
        .unwrap()
        .count();
    assert_eq!(written, 5);
}

#[test]
fn an_option_the_action_does_not_take_is_a_usage_error_before_anything_runs() {
    let work = site();
    for (args, option, takers) in [
        (
            &["--action", "validate-config", "--keep"][..],
            "--keep",
            "test-deploy",
        ),
        (
            &["--action", "show-changes", "--force"][..],
            "--force",
            "prep-master, create-bucket, tear-down",
        ),
        (
            &["--action", "check-drift", "--detailed-exitcode"][..],
            "--detailed-exitcode",
            "show-changes",
        ),
        (
            &["--action", "create-policy", "--solution", "master-solution"][..],
            "--solution",
            "validate-config",
        ),
        (
            &["--action", "prep-master", "--test-id", "t0a1b2c", "--force"][..],
            "--test-id",
            "tear-down, check-drift",
        ),
    ] {
        let (code, _, stderr) = run(work.path(), &[&["--config", SHARED][..], args].concat());
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{option} does not apply to --action {}", args[1])),
            "{stderr}"
        );
        assert!(stderr.contains(takers), "{stderr}");
    }
    assert!(!work.path().join("reports").exists(), "nothing ran");
    // Connection settings are accepted by local actions too.
    let (code, _, stderr) = run(
        work.path(),
        &[
            "--config",
            SHARED,
            "--action",
            "validate-config",
            "--profile",
            "prod",
            "--timeout",
            "5",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
}
