//! Files the tool reads and writes, as users meet them through the binary: what `--config` may
//! name (only regular files; a FIFO must never block), report files under concurrent runs, file
//! modes, report retention. No AWS: every command here is local.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

const SHARED_SITE: &str = "edge-prod-b001-us-west-1-s3.yaml";

fn repo_configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

/// A working folder holding a copy of the shared-bucket example config.
fn site() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let configs = work.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    std::fs::copy(repo_configs().join(SHARED_SITE), configs.join(SHARED_SITE)).unwrap();
    work
}

/// The binary with a clean, hermetic environment, run from `cwd`; never runs longer than a minute.
fn provisioner(cwd: &Path) -> Command {
    let mut command = Command::cargo_bin("s3-provisioner").unwrap();
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
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .timeout(Duration::from_mins(1));
    command
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_fifo_as_config_is_refused_without_blocking() {
    let work = site();
    let fifo = work.path().join("configs/pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    // No writer ever opens the FIFO: a run that opened it for reading would hang until the timeout.
    let output = provisioner(work.path())
        .args(["--config", "pipe.yaml", "--action", "validate-config"])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("configs/pipe.yaml: is a FIFO (named pipe), not a config file"),
        "{stderr}"
    );
}

#[test]
fn devices_and_directories_as_config_are_refused() {
    let work = site();
    for (config, kind) in [
        ("/dev/null", "a character device"),
        ("configs/", "a directory"),
    ] {
        let output = provisioner(work.path())
            .args(["--config", config, "--action", "validate-config"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains(&format!("{config}: is {kind}, not a config file")),
            "{stderr}"
        );
    }
}
