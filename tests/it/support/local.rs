//! The binary run locally, as a user runs it from a working folder, for tests that need no AWS:
//! a hermetic environment, and working folders holding copies of the repository's example
//! configs.

use std::path::{Path, PathBuf};

/// Every `--action`, written out, so that a renamed or dropped action fails the tests that use
/// it.
pub const ALL_ACTIONS: &[&str] = &[
    "validate-config",
    "create-prov-template",
    "validate-prov-template",
    "create-policy",
    "show-changes",
    "check-drift",
    "upload-template",
    "prep-master",
    "deploy-solution",
    "create-bucket",
    "test-deploy",
    "tear-down",
];

/// The repository's example configs (`configs/`).
pub fn repo_configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

/// A working folder whose `configs/` holds copies of the example configs `names`.
pub fn site_with(names: &[&str]) -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let configs = work.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    for name in names {
        std::fs::copy(repo_configs().join(name), configs.join(name)).unwrap();
    }
    work
}

/// The example configs' file names, sorted.
pub fn example_configs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_configs())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A working folder whose `configs/` holds a copy of every example config.
pub fn site_with_all() -> tempfile::TempDir {
    let names = example_configs();
    site_with(&names.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The binary run from `cwd` with a hermetic environment: no folder, report or log variables
/// from the developer's shell, no colour, test credentials, and AWS at a port where nothing
/// listens, so anything that tried to reach AWS fails fast instead of passing by accident.
pub fn provisioner(cwd: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("s3-provisioner").unwrap();
    command
        .current_dir(cwd)
        .env_remove("S3P_CONFIGS_DIR")
        .env_remove("S3P_TEMPLATES_DIR")
        .env_remove("S3P_POLICIES_DIR")
        .env_remove("S3P_REPORTS_DIR")
        .env_remove("S3P_KEEP_REPORTS")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    command
}
