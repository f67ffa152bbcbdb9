//! What moto and LocalStack share: a Python launcher started on a free loopback port, which
//! prints one `PORT=<n>` line when it is ready and exits when its stdin reaches EOF (so the
//! server goes away with the test process even when that is killed), and the environment, SDK
//! config and tool command that point at it.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Variables a process talking to a local AWS must not inherit (they would pick another
/// identity or endpoint).
pub const ENV_REMOVE: [&str; 6] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
];

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How to start one kind of server.
pub struct Launch<'a> {
    /// The emulator's name in messages (`moto`, `LocalStack`).
    pub name: &'a str,
    pub python: PathBuf,
    /// The launcher script.
    pub launcher: PathBuf,
    pub args: Vec<OsString>,
    /// The server's working folder (its temp files go there, not into the repository).
    pub cwd: &'a Path,
    /// Extra environment for the launcher.
    pub env: Vec<(&'a str, &'a str)>,
    /// How long it may take to print `PORT=`.
    pub timeout: Duration,
    /// How to get the launcher's Python when it is missing, e.g. "run `scripts/test` once".
    pub setup_hint: &'a str,
    /// An extra hint for a start-up failure, from the launcher's stderr ("" for none).
    pub failure_hint: fn(&str) -> &'static str,
}

/// A running server, killed when dropped; when the test is failing, the end of its log (a
/// traceback behind an HTTP 500) is shown in the test's output.
pub struct Server {
    /// The emulator's name in messages.
    name: String,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    child: Child,
    /// Held open: the launcher exits when it reads EOF.
    _stdin: ChildStdin,
    /// The launcher's stderr (a file, so a chatty server can never block on a full pipe).
    stderr_file: tempfile::NamedTempFile,
    /// Empty AWS config/credentials file, so no developer profile leaks into the tool.
    empty_aws_file: tempfile::NamedTempFile,
}

impl Server {
    /// Start the server `launch` describes and wait for its `PORT=` line. Panics with a clear
    /// message when the Python is missing or the server does not come up.
    pub fn start(launch: Launch<'_>) -> Server {
        let Launch {
            name,
            python,
            launcher,
            args,
            cwd,
            env,
            timeout,
            setup_hint,
            failure_hint,
        } = launch;
        assert!(
            python.exists(),
            "the {name} Python {} does not exist: {setup_hint}",
            python.display()
        );
        let stderr_file = tempfile::NamedTempFile::new().expect("temp file for a server's stderr");
        let mut child = Command::new(&python)
            .arg(&launcher)
            .args(&args)
            .current_dir(cwd)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .envs(env)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(
                stderr_file
                    .reopen()
                    .expect("reopen the server's stderr file"),
            )
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} {}: {e}; {setup_hint}",
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
        let line = rx.recv_timeout(timeout);
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
            let hint = failure_hint(&stderr);
            panic!(
                "the {name} server did not start ({}){hint}.\nlauncher: {} {}\nlauncher stderr:\n{stderr}",
                match line {
                    Ok(Ok(l)) if l.is_empty() => "it exited before printing PORT=".to_owned(),
                    Ok(Ok(l)) => format!("unexpected first line {l:?}"),
                    Ok(Err(e)) => format!("reading its stdout failed: {e}"),
                    Err(_) => format!("no PORT= line within {timeout:?}"),
                },
                python.display(),
                launcher.display(),
            );
        };

        Server {
            name: name.to_owned(),
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            _stdin: stdin,
            stderr_file,
            empty_aws_file: tempfile::NamedTempFile::new().expect("empty AWS config file"),
        }
    }

    /// What the server wrote to stderr so far (warnings and tracebacks; no per-request lines).
    pub fn log(&self) -> String {
        let mut text = String::new();
        let _ = self
            .stderr_file
            .reopen()
            .and_then(|mut f| f.read_to_string(&mut text));
        text
    }

    /// The empty file that stands for the AWS config and credentials files.
    pub fn empty_aws_file(&self) -> &Path {
        self.empty_aws_file.path()
    }

    /// Environment for a process that should talk to this server signing with `access_key`. The
    /// caller must also remove [`ENV_REMOVE`]; [`Server::command`] does both.
    pub fn env(&self, access_key: &str) -> Vec<(String, String)> {
        let empty = self.empty_aws_file.path().display().to_string();
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", access_key),
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

    /// The `s3-provisioner` binary, run in `workdir`, talking to this server signing with
    /// `access_key`, without colour.
    pub fn command(&self, workdir: &Path, access_key: &str) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s3-provisioner"));
        cmd.current_dir(workdir);
        for key in ENV_REMOVE {
            cmd.env_remove(key);
        }
        cmd.envs(self.env(access_key));
        cmd.env("NO_COLOR", "1");
        cmd
    }

    /// An `SdkConfig` for this server: static credentials with `access_key`, this endpoint,
    /// `region`, and no host environment or profile files (tests run in parallel threads of one
    /// process).
    pub async fn sdk_config(&self, region: &str, access_key: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .empty_test_environment()
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                access_key.to_owned(),
                "testing",
                None,
                None,
                "local-aws",
            ))
            .load()
            .await
    }

    /// The tool's clients, built the way the tool builds them, pointing at this server.
    pub async fn clients(&self, region: &str, access_key: &str) -> s3_provisioner::aws::AwsClients {
        s3_provisioner::aws::AwsClients::from_sdk_config(&self.sdk_config(region, access_key).await)
    }
}

impl Drop for Server {
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
                    "--- {} server log ({}), last part ---\n{}",
                    self.name,
                    self.endpoint,
                    &log[tail_start..]
                );
            }
        }
    }
}
