//! Options of local behaviour, as the README promises them: the `--*-dir` options (and their
//! `S3P_*_DIR` variables) put every file where they say and nothing anywhere else; `-q` leaves
//! only results and problems; a reports folder that cannot be written is a warning, the action
//! still runs and exits as it would, and the warning is in the printed result document too.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

const SHARED_SITE: &str = "edge-prod-b001-us-west-1-s3.yaml";

/// The binary with a hermetic environment, run from `cwd`; AWS is a closed port.
fn provisioner(cwd: &Path) -> Command {
    let mut command = Command::cargo_bin("s3-provisioner").unwrap();
    command
        .current_dir(cwd)
        .env_remove("S3P_CONFIGS_DIR")
        .env_remove("S3P_TEMPLATES_DIR")
        .env_remove("S3P_POLICIES_DIR")
        .env_remove("S3P_REPORTS_DIR")
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    command
}

/// A folder holding a copy of the repository's example configs in `configs/`.
fn configs_in(dir: &Path) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(repo).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
}

/// Names in `dir`, sorted; empty when it does not exist.
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

fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_dir_options_put_every_file_where_they_say() {
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let (configs, templates, policies, reports) = (
        root.path().join("in/site-configs"),
        root.path().join("out/tpl"),
        root.path().join("out/pol"),
        root.path().join("out/rep"),
    );
    configs_in(&configs);
    for action in ["create-prov-template", "create-policy"] {
        let (code, _, stderr) = run(provisioner(&cwd).args([
            "--config",
            SHARED_SITE,
            "--action",
            action,
            "--configs-dir",
            configs.to_str().unwrap(),
            "--templates-dir",
            templates.to_str().unwrap(),
            "--policies-dir",
            policies.to_str().unwrap(),
            "--reports-dir",
            reports.to_str().unwrap(),
        ]));
        assert_eq!(code, Some(0), "{action}: {stderr}");
    }
    assert_eq!(
        names_in(&templates),
        ["edge-prod-b001-us-west-1-s3-template.yaml"]
    );
    assert_eq!(
        names_in(&policies),
        ["edge-prod-b001-us-west-1-s3-iam-policy.json"]
    );
    let report_names = names_in(&reports);
    assert_eq!(report_names.len(), 4, "{report_names:?}");
    assert!(
        report_names
            .iter()
            .all(|n| n.starts_with("edge-prod-b001-us-west-1-s3-create-")),
        "{report_names:?}"
    );
    assert!(names_in(&cwd).is_empty(), "nothing in the working folder");

    // The same through the environment variables, from another working folder.
    let cwd2 = root.path().join("cwd2");
    std::fs::create_dir(&cwd2).unwrap();
    let env_out = root.path().join("env-out");
    let (code, _, stderr) = run(provisioner(&cwd2)
        .env("S3P_CONFIGS_DIR", &configs)
        .env("S3P_TEMPLATES_DIR", env_out.join("t"))
        .env("S3P_POLICIES_DIR", env_out.join("p"))
        .env("S3P_REPORTS_DIR", env_out.join("r"))
        .args(["--config", SHARED_SITE, "--action", "create-policy"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        names_in(&env_out.join("p")),
        ["edge-prod-b001-us-west-1-s3-iam-policy.json"]
    );
    assert_eq!(names_in(&env_out.join("r")).len(), 2);
    assert!(names_in(&env_out.join("t")).is_empty());
    assert!(names_in(&cwd2).is_empty());
}

#[test]
fn quiet_leaves_only_results_and_problems() {
    let root = tempfile::tempdir().unwrap();
    configs_in(&root.path().join("configs"));
    let (code, loud_stdout, loud_stderr) = run(provisioner(root.path()).args([
        "--config",
        SHARED_SITE,
        "--action",
        "validate-config",
    ]));
    assert_eq!(code, Some(0), "{loud_stderr}");
    assert!(loud_stderr.contains("report: "), "{loud_stderr}");

    let (code, stdout, stderr) = run(provisioner(root.path()).args([
        "--config",
        SHARED_SITE,
        "--action",
        "validate-config",
        "-q",
    ]));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "", "-q prints no progress or report lines");
    assert_eq!(stdout, loud_stdout, "the result is the same with -q");
    assert!(!stdout.is_empty());

    // Problems are still shown: an invalid config's error, and its exit code.
    std::fs::write(
        root.path().join("configs/broken.yaml"),
        "client:\n  company_prefix: Edge\n",
    )
    .unwrap();
    let (code, _, stderr) = run(provisioner(root.path()).args([
        "--config",
        "broken.yaml",
        "--action",
        "validate-config",
        "-q",
    ]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(!stderr.contains("report: "), "{stderr}");
}

/// The warnings of a printed result document.
fn document_warnings(stdout: &str) -> Vec<String> {
    let document: Value = serde_json::from_str(stdout).unwrap();
    document["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn old_reports_that_cannot_be_pruned_are_a_warning_in_the_result_document_too() {
    let root = tempfile::tempdir().unwrap();
    configs_in(&root.path().join("configs"));
    let reports = root.path().join("reports");
    // An old "report" that is a folder: deleting it as a file fails, even for root.
    let old = reports.join("edge-prod-b001-us-west-1-s3-validate-config-20200101T000000Z.log");
    std::fs::create_dir_all(old.join("inside")).unwrap();
    let (code, stdout, stderr) = run(provisioner(root.path()).args([
        "--config",
        SHARED_SITE,
        "--action",
        "validate-config",
        "--keep-reports",
        "1",
        "--output",
        "json",
    ]));
    assert_eq!(code, Some(0), "the action's own result stands: {stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning:") && l.contains("old reports were not pruned"))
        .unwrap_or_else(|| panic!("no pruning warning: {stderr}"));
    assert!(
        warning.contains("edge-prod-b001-us-west-1-s3-validate-config-20200101T000000Z.log"),
        "the warning names what could not be deleted: {warning}"
    );
    let warnings = document_warnings(&stdout);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("old reports were not pruned")),
        "every printed warning is in the result document: {warnings:?}"
    );
    assert!(old.is_dir(), "nothing but report files is ever deleted");
}

#[test]
fn an_unwritable_reports_dir_is_a_warning_and_the_action_still_runs() {
    let root = tempfile::tempdir().unwrap();
    configs_in(&root.path().join("configs"));
    // A folder under a regular file can never be created or written (even by root, which
    // permission bits would not stop).
    std::fs::write(root.path().join("not-a-folder"), "").unwrap();
    let reports = root.path().join("not-a-folder/reports");
    let (code, stdout, stderr) = run(provisioner(root.path()).args([
        "--config",
        SHARED_SITE,
        "--action",
        "create-prov-template",
        "--reports-dir",
        reports.to_str().unwrap(),
        "--output",
        "json",
    ]));
    assert_eq!(code, Some(0), "the action's own result stands: {stderr}");
    assert_eq!(
        names_in(&root.path().join("templates")),
        ["edge-prod-b001-us-west-1-s3-template.yaml"],
        "the action did its work"
    );
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("no warning: {stderr}"));
    assert!(
        warning.contains(&reports.display().to_string())
            && warning.contains("no report was written"),
        "the warning says where and what: {warning}"
    );
    let warnings = document_warnings(&stdout);
    assert!(
        warnings.iter().any(|w| w.contains("no report was written")),
        "every printed warning is in the result document: {warnings:?}"
    );

    // A failing run keeps its own exit code.
    let (code, _, stderr) = run(provisioner(root.path()).args([
        "--config",
        "missing.yaml",
        "--action",
        "validate-config",
        "--reports-dir",
        reports.to_str().unwrap(),
    ]));
    assert_eq!(code, Some(2), "{stderr}");
}
