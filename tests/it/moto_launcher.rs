//! The moto launcher's own tests: `tests/it/support/moto_launcher_test.py` checks, through boto3
//! against a patched moto server, each patch listed in the launcher's patch table (the AWS
//! behaviour it follows, which plain moto gets wrong). Run here through the venv python so
//! `scripts/test` covers the harness as well as the tool.

use crate::support;

use std::process::Command;

#[test]
fn every_launcher_patch_behaves_as_aws_documents() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support");
    let scratch = tempfile::tempdir().expect("scratch folder for moto");
    let output = Command::new(support::moto::python())
        .arg(dir.join("moto_launcher_test.py"))
        .current_dir(scratch.path())
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run the venv python (run `scripts/test` once to create .venv)");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "launcher tests failed:\n{log}");
    assert!(
        log.contains("OK"),
        "launcher tests did not report OK:\n{log}"
    );
}
