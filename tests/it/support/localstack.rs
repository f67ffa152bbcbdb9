//! LocalStack (community edition, run on the host without Docker) as a second, independent local
//! AWS: one server per test, started through `tests/it/support/localstack_launcher.py` on a free
//! loopback port with its own in-memory state, like [`super::MotoServer`].
//!
//! LocalStack needs Python packages pinned differently from moto's, so it lives in its own venv,
//! `.venv-localstack` (from `scripts/requirements-localstack.txt`), which `scripts/test` installs
//! when `S3P_EMULATOR=localstack` and the venv is missing or stale. Tests reach it through
//! [`super::LocalAws`], which picks moto or LocalStack from `S3P_EMULATOR`.
//!
//! What the emulator does (localstack-core 4.9.2, unpatched):
//! - STS answers the account given as the access key id when that is 12 digits, so the harness
//!   signs with access key [`super::moto::MOTO_ACCOUNT`] and the same site configs serve both.
//! - Start-up ≈4 s on an idle machine (much more while the machine is busy compiling); the first
//!   call to each service costs its loading time.
//! - CloudFormation runs asynchronously, as AWS does: stacks pass through `*_IN_PROGRESS`, and
//!   DescribeStackEvents has per-resource events (plus a stray stack-level
//!   `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS` event while a stack is deleted).
//! - CloudFormation does not apply an `AWS::S3::Bucket`'s `LifecycleConfiguration` nor
//!   `BucketKeyEnabled` (the bucket gets no lifecycle rules and S3 reports the bucket key off),
//!   and a stack update that changes the bucket's `Tags` leaves the bucket's old tags. Buckets
//!   carry no `aws:cloudformation:*` tags.
//! - DetectStackDrift answers HTTP 501 `InternalFailure` ("not yet emulated").
//!
//! docs/decisions.md ("Emulators") lists where this differs from moto and what AWS documents.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::moto::{MOTO_ACCOUNT, MotoServer};

/// How long LocalStack may take to report every service ready before the test fails. It imports
/// far more than moto; on the shared 2-core machine with compilers running that takes a while.
const STARTUP_TIMEOUT: Duration = Duration::from_mins(3);

/// A running LocalStack server, killed when dropped.
pub struct LocalStackServer {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    child: Child,
    /// Held open: the launcher exits when it reads EOF.
    _stdin: ChildStdin,
    /// The launcher's stderr (a file, so a chatty server can never block on a full pipe).
    stderr_file: tempfile::NamedTempFile,
    /// LocalStack's file-system root (its temp files), removed with the server.
    _state: tempfile::TempDir,
    /// Empty AWS config/credentials file, so no developer profile leaks into the tool.
    empty_aws_file: tempfile::NamedTempFile,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The LocalStack venv's python: `S3P_LOCALSTACK_PYTHON` (set by scripts/test) or
/// `./.venv-localstack/bin/python`.
fn python() -> PathBuf {
    match std::env::var_os("S3P_LOCALSTACK_PYTHON") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => manifest_dir().join(".venv-localstack/bin/python"),
    }
}

impl LocalStackServer {
    /// Start a fresh server with its own state. Panics with a clear message when the venv is
    /// missing (run `S3P_EMULATOR=localstack scripts/test` once) or the server does not come up.
    pub fn start() -> LocalStackServer {
        let python = python();
        assert!(
            python.exists(),
            "the LocalStack Python {} does not exist: run `S3P_EMULATOR=localstack scripts/test` once (it installs the pinned LocalStack into .venv-localstack), or set S3P_LOCALSTACK_PYTHON",
            python.display()
        );
        let launcher = manifest_dir().join("tests/it/support/localstack_launcher.py");
        let stderr_file =
            tempfile::NamedTempFile::new().expect("temp file for LocalStack's stderr");
        let state = tempfile::Builder::new()
            .prefix("s3p-localstack-")
            .tempdir()
            .expect("temp state folder for LocalStack");
        let mut child = Command::new(&python)
            .arg(&launcher)
            .arg(state.path())
            .current_dir(state.path())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr_file.reopen().expect("reopen LocalStack stderr file"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} {}: {e}; run `S3P_EMULATOR=localstack scripts/test` once to create .venv-localstack",
                    python.display(),
                    launcher.display()
                )
            });
        let stdin = child.stdin.take().expect("launcher stdin is piped");
        let stdout = child.stdout.take().expect("launcher stdout is piped");

        // Read the one readiness line on a thread so the wait can time out.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let result = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(result);
        });
        let line = rx.recv_timeout(STARTUP_TIMEOUT);
        let port = match &line {
            Ok(Ok(line)) => line
                .trim()
                .strip_prefix("PORT=")
                .and_then(|p| p.parse::<u16>().ok()),
            _ => None,
        };
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            let _ = stderr_file
                .reopen()
                .and_then(|mut f| f.read_to_string(&mut stderr));
            panic!(
                "the LocalStack server did not start ({}).\nlauncher: {} {}\nlauncher stderr:\n{stderr}",
                match line {
                    Ok(Ok(l)) if l.is_empty() => "it exited before printing PORT=".to_owned(),
                    Ok(Ok(l)) => format!("unexpected first line {l:?}"),
                    Ok(Err(e)) => format!("reading its stdout failed: {e}"),
                    Err(_) => format!("no PORT= line within {STARTUP_TIMEOUT:?}"),
                },
                python.display(),
                launcher.display(),
            );
        };

        LocalStackServer {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            _stdin: stdin,
            stderr_file,
            _state: state,
            empty_aws_file: tempfile::NamedTempFile::new().expect("empty AWS config file"),
        }
    }

    /// What the server wrote to stderr so far (LocalStack's warnings and errors).
    pub fn log(&self) -> String {
        let mut text = String::new();
        let _ = self
            .stderr_file
            .reopen()
            .and_then(|mut f| f.read_to_string(&mut text));
        text
    }

    /// Environment for a process that should talk to this server. The access key id is the
    /// account LocalStack then reports (see the module doc); the caller must also remove
    /// [`MotoServer::ENV_REMOVE`], as [`LocalStackServer::command`] does.
    pub fn env(&self) -> Vec<(String, String)> {
        let empty = self.empty_aws_file.path().display().to_string();
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", MOTO_ACCOUNT),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", empty.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", empty.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The `s3-provisioner` binary, run in `workdir`, talking to this server, without colour.
    pub fn command(&self, workdir: &Path) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s3-provisioner"));
        cmd.current_dir(workdir);
        for key in MotoServer::ENV_REMOVE {
            cmd.env_remove(key);
        }
        cmd.envs(self.env());
        cmd.env("NO_COLOR", "1");
        cmd
    }

    /// An `SdkConfig` for this server: its test credentials, this endpoint, `region`, and no
    /// host environment or profile files.
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .empty_test_environment()
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                MOTO_ACCOUNT,
                "testing",
                None,
                None,
                "localstack",
            ))
            .load()
            .await
    }

    /// The tool's clients, built the way the tool builds them, pointing at this server.
    pub async fn clients(&self, region: &str) -> s3_provisioner::aws::AwsClients {
        s3_provisioner::aws::AwsClients::from_sdk_config(&self.sdk_config(region).await)
    }
}

impl Drop for LocalStackServer {
    /// Kill the server. When the test is failing, show the end of the server's log.
    // Test support, not product output: libtest captures this and shows it with the failure.
    #[allow(clippy::print_stderr, clippy::disallowed_macros)]
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            if !log.trim().is_empty() {
                let tail_start = log.len().saturating_sub(6000);
                let tail_start = (tail_start..log.len())
                    .find(|&i| log.is_char_boundary(i))
                    .unwrap_or(0);
                eprintln!(
                    "--- LocalStack server log ({}), last part ---\n{}",
                    self.endpoint,
                    &log[tail_start..]
                );
            }
        }
    }
}
