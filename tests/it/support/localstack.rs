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

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::moto::MOTO_ACCOUNT;
use super::server::{Launch, Server, manifest_dir};

/// How long LocalStack may take to report every service ready before the test fails. It imports
/// far more than moto; on the shared 2-core machine with compilers running that takes a while.
const STARTUP_TIMEOUT: Duration = Duration::from_mins(3);

/// A running LocalStack server, killed when dropped.
pub struct LocalStackServer {
    server: Server,
    /// LocalStack's file-system root (its temp files), removed once the server is gone.
    _state: tempfile::TempDir,
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
        let state = tempfile::Builder::new()
            .prefix("s3p-localstack-")
            .tempdir()
            .expect("temp state folder for LocalStack");
        let server = Server::start(Launch {
            name: "LocalStack",
            python: python(),
            launcher: manifest_dir().join("tests/it/support/localstack_launcher.py"),
            args: vec![state.path().into()],
            cwd: state.path(),
            env: Vec::new(),
            timeout: STARTUP_TIMEOUT,
            setup_hint: "run `S3P_EMULATOR=localstack scripts/test` once (it installs the pinned LocalStack into .venv-localstack), or set S3P_LOCALSTACK_PYTHON",
            failure_hint: |_| "",
        });
        LocalStackServer {
            server,
            _state: state,
        }
    }

    /// The `s3-provisioner` binary, run in `workdir`, talking to this server, without colour.
    pub fn command(&self, workdir: &Path) -> assert_cmd::Command {
        self.server.command(workdir, MOTO_ACCOUNT)
    }

    /// The tool's clients, built the way the tool builds them, pointing at this server.
    pub async fn clients(&self, region: &str) -> s3_provisioner::aws::AwsClients {
        self.server.clients(region, MOTO_ACCOUNT).await
    }
}
