//! The AWS failures people meet most, as the binary reports them: an unknown `--profile` (named,
//! with the profiles that exist), no credentials at all, an endpoint that refuses connections
//! (named, the OS error said once). Never the SDK's debug dump, except with `-v`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const SHARED_SITE: &str = "edge-prod-b001-us-west-1-s3.yaml";

/// A working folder with the shared example config and AWS config files of its own.
fn workdir() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let configs = work.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("configs")
            .join(SHARED_SITE),
        configs.join(SHARED_SITE),
    )
    .unwrap();
    std::fs::write(
        work.path().join("aws-config"),
        "[profile dev]\nregion = us-west-1\n[profile ops]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(work.path().join("aws-credentials"), "").unwrap();
    work
}

/// A loopback port with nothing listening on it.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    endpoint
}

fn run(work: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3-provisioner"));
    command.current_dir(work);
    for key in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_CLOUDFORMATION",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        command.env_remove(key);
    }
    command
        .env("AWS_CONFIG_FILE", work.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", work.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", closed_port())
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .args(["--config", SHARED_SITE])
        .args(args)
        .stdin(Stdio::null());
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unknown_profile_is_named_with_the_profiles_that_exist() {
    let work = workdir();
    let output = run(
        work.path(),
        &["--action", "show-changes", "--profile", "nosuch"],
        &[],
    );
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("no AWS profile named `nosuch`"), "{text}");
    assert!(text.contains("defined: dev, ops"), "{text}");
    assert!(!text.contains("DispatchFailure"), "{text}");

    // The same through AWS_PROFILE.
    let output = run(
        work.path(),
        &["--action", "check-drift"],
        &[("AWS_PROFILE", "nosuch")],
    );
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("AWS_PROFILE=nosuch"), "{text}");
}

#[test]
fn no_credentials_at_all_says_where_it_looked_and_what_to_do() {
    let work = workdir();
    let output = run(work.path(), &["--action", "show-changes"], &[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("no AWS credentials found"), "{text}");
    assert!(text.contains("--profile NAME"), "{text}");
    assert!(text.contains("-v ~/.aws:/home/s3user/.aws:ro"), "{text}");
    assert!(!text.contains("DispatchFailure"), "{text}");
    assert!(!text.contains("ConnectorError"), "{text}");
}

#[test]
fn a_refused_connection_names_the_endpoint_and_says_the_os_error_once() {
    let work = workdir();
    let endpoint = closed_port();
    let keys = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ];
    let output = run(work.path(), &["--action", "show-changes"], &keys);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "AWS endpoint {endpoint} could not be reached or did not answer sts:GetCallerIdentity"
        )),
        "{text}"
    );
    assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
    assert!(!text.contains("DispatchFailure"), "{text}");

    // -v adds the SDK's own account of the failure.
    let output = run(work.path(), &["--action", "show-changes", "-v"], &keys);
    assert!(
        stderr(&output).contains("AWS error details"),
        "{}",
        stderr(&output)
    );
}
