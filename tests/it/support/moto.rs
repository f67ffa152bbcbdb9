//! The local AWS for integration tests: one moto server per test, started through
//! `tests/it/support/moto_launcher.py` on a free loopback port, with its own in-memory state.
//!
//! ```ignore
//! mod support;
//! let moto = support::MotoServer::start();
//! let aws = moto.clients("us-west-1").await;          // the tool's AwsClients
//! let work = support::Workdir::new();
//! work.write_config("edge-prod-b001.yaml", &support::site_config("b001", "us-west-1", ""));
//! moto.command(work.path()).args(["create-bucket", "--force"]).assert().success();
//! ```
//!
//! Start-up, the environment and the clients are shared with LocalStack ([`super::server`]).
//!
//! What the emulator does (moto 5.2.5 plus the launcher's patches, listed with their tests in
//! `docs/moto-launcher.md`):
//! - STS answers account [`MOTO_ACCOUNT`]. Start-up ≈0.5 s; the first CloudFormation call of a
//!   server costs ≈1.3 s more (moto imports every service then).
//! - CloudFormation runs synchronously: a stack is `*_COMPLETE` (or `ROLLBACK_COMPLETE`,
//!   `DELETE_FAILED`) by the time the call returns. Change sets, DescribeChangeSet with
//!   per-property Details (Path, BeforeValue/AfterValue: template values), ExecuteChangeSet,
//!   empty change sets (`FAILED`, "didn't contain changes"), stack tags, Outputs, GetTemplate,
//!   ValidateTemplate (runs cfn-lint: any finding is an error), ListStackResources work.
//!   DescribeStackEvents has stack-level events, plus per-resource events for a failing
//!   resource. A change set whose only change is in Metadata or Outputs fails as empty (AWS).
//!   Drift detection answers HTTP 501 `NotImplemented` at once.
//! - Buckets created by a stack get every template property (versioning, encryption with
//!   BucketKeyEnabled, public access block, ownership controls, lifecycle, tags) plus the
//!   `aws:cloudformation:*` tags; `AWS::S3::BucketPolicy` is applied; a non-empty `Delete` bucket
//!   fails the stack delete (`DELETE_FAILED`); `Retain` buckets stay.
//! - `AWS::EC2::VPCEndpoint` needs its VPC to exist: use [`MotoServer::create_vpc`].
//! - S3 lifecycle rules written by CloudFormation's `Prefix` read back as `Filter.Prefix`.
//! - A TLS-only bucket policy (`aws:SecureTransport` = false → Deny) does not block requests;
//!   bucket-policy conditions follow IAM's rules and an operator the launcher does not model is
//!   refused (501). Every bucket has SSE-S3 default encryption, as on AWS.
//! - Tagging a bucket CloudFormation created: [`MotoServer::run_tagging_command`] (PutBucketTagging
//!   would drop its `aws:cloudformation:*` tags, which S3 refuses).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::server::{Launch, Server, manifest_dir};

/// moto's default account: what its STS GetCallerIdentity answers.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// How long a server may take to answer before the test fails. Generous: many tests start
/// servers at once on a small shared machine (a server normally starts in well under a second).
const STARTUP_TIMEOUT: Duration = Duration::from_mins(1);

/// A running moto server, killed when dropped.
pub struct MotoServer {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    server: Server,
    /// The server's working folder: moto's ValidateTemplate writes `file.tmp` into its cwd, so
    /// servers running in parallel must not share one (nor write into the repository). Declared
    /// after `server`, so it is removed only once the server is gone.
    _cwd: tempfile::TempDir,
}

/// The venv python (moto, boto3, jsonschema, cfn-lint): `S3P_TEST_PYTHON` (set by scripts/test)
/// or `./.venv/bin/python`. Panics, saying how to install it, when it does not exist.
pub fn python() -> PathBuf {
    let python = match std::env::var_os("S3P_TEST_PYTHON") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => manifest_dir().join(".venv/bin/python"),
    };
    assert!(
        python.is_file(),
        "{} not found: run the tests with scripts/test, which installs the pinned Python tools into .venv",
        python.display()
    );
    python
}

impl MotoServer {
    /// Start a fresh server with its own state. Panics with a clear message when the venv or
    /// moto is missing (run `scripts/test` once) or the server does not come up.
    pub fn start() -> MotoServer {
        Self::start_with_faults(None)
    }

    /// Start a server that makes chosen requests slow or throttled (the launcher's
    /// `S3P_MOTO_FAULTS`, a JSON list of `{"match": REGEX, "delay": SECONDS}` or
    /// `{"match": REGEX, "throttle": FRACTION}` rules; see `install_fault_injection` there).
    pub fn start_with_faults(faults: Option<&str>) -> MotoServer {
        let cwd = tempfile::Builder::new()
            .prefix("s3p-moto-")
            .tempdir()
            .expect("temp working folder for moto");
        let server = Server::start(Launch {
            name: "moto",
            python: python(),
            launcher: manifest_dir().join("tests/it/support/moto_launcher.py"),
            args: Vec::new(),
            cwd: cwd.path(),
            env: vec![("S3P_MOTO_FAULTS", faults.unwrap_or_default())],
            timeout: STARTUP_TIMEOUT,
            setup_hint: "run `scripts/test` once (it installs the pinned moto server into .venv), or set S3P_TEST_PYTHON",
            failure_hint: |stderr| {
                if stderr.contains("No module named") {
                    "; the venv lacks moto: run `scripts/test` once"
                } else {
                    ""
                }
            },
        });
        MotoServer {
            endpoint: server.endpoint.clone(),
            server,
            _cwd: cwd,
        }
    }

    /// Environment for a process that should talk to this server with test credentials.
    /// The caller must also remove `AWS_PROFILE`, `AWS_DEFAULT_PROFILE` and `AWS_SESSION_TOKEN`
    /// (see [`MotoServer::ENV_REMOVE`]); [`MotoServer::command`] does both.
    pub fn env(&self) -> Vec<(String, String)> {
        self.server.env("testing")
    }

    /// Variables a process talking to moto must not inherit (they would pick another identity).
    pub const ENV_REMOVE: [&'static str; 6] = super::server::ENV_REMOVE;

    /// The `s3-provisioner` binary, run in `workdir`, talking to this server, without colour.
    pub fn command(&self, workdir: &Path) -> assert_cmd::Command {
        self.server.command(workdir, "testing")
    }

    /// The binary on a terminal, talking to this server: run in `workdir` under `script`, which
    /// gives it a terminal (`exec`: the tool replaces the shell, so it is script's own child),
    /// without colour. Its stdin is piped (the test answers prompts through it); what the
    /// terminal shows arrives on the receiver as it is written, until the terminal closes.
    pub fn on_terminal(&self, workdir: &Path, args: &str) -> (Child, mpsc::Receiver<Vec<u8>>) {
        assert!(
            Command::new("script").arg("--version").output().is_ok(),
            "`script` (util-linux) is needed for the terminal tests"
        );
        let inner = format!("exec {} {args}", env!("CARGO_BIN_EXE_s3-provisioner"));
        let mut command = Command::new("script");
        command
            .args(["-qfec", &inner, "/dev/null"])
            .current_dir(workdir);
        for key in Self::ENV_REMOVE {
            command.env_remove(key);
        }
        let mut child = command
            .envs(self.env())
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start `script`");
        let mut stdout = child.stdout.take().expect("script's stdout is piped");
        let (sender, chunks) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0 || sender.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        (child, chunks)
    }

    /// An `SdkConfig` for this server: static test credentials, this endpoint, `region`, and no
    /// host environment or profile files (tests run in parallel threads of one process).
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        self.server.sdk_config(region, "testing").await
    }

    /// Create a VPC with `route_tables` route tables in this server's EC2 (the tool has no EC2
    /// client; moto's `AWS::EC2::VPCEndpoint` needs the VPC to exist, as AWS does). Returns the
    /// VPC id and the route table ids (moto ids match the config rules: `vpc-`/`rtb-` + 17 hex).
    pub fn create_vpc(&self, region: &str, route_tables: usize) -> (String, Vec<String>) {
        const SCRIPT: &str = r#"
import sys, boto3
endpoint, region, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(count)]
print(" ".join([vpc] + tables))
"#;
        let output = Command::new(python())
            .args([
                "-c",
                SCRIPT,
                &self.endpoint,
                region,
                &route_tables.to_string(),
            ])
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", self.server.empty_aws_file())
            .env("AWS_SHARED_CREDENTIALS_FILE", self.server.empty_aws_file())
            .output()
            .expect("run the venv python to create a VPC in moto");
        assert!(
            output.status.success(),
            "creating a VPC in moto failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).expect("VPC ids are UTF-8");
        let mut ids = text.split_whitespace().map(str::to_owned);
        let vpc = ids.next().expect("a VPC id");
        (vpc, ids.collect())
    }

    /// Run an `aws resourcegroupstaggingapi tag-resources|untag-resources …` command line (as a
    /// user would type it, e.g. the one tear-down advises) against this server, through boto3:
    /// the tool has no client for that API. Panics when the command is malformed or fails.
    pub fn run_tagging_command(&self, command_line: &str) {
        const SCRIPT: &str = r#"
import argparse, shlex, sys, boto3
endpoint, line = sys.argv[1], sys.argv[2]
words = shlex.split(line)
if words[:2] != ["aws", "resourcegroupstaggingapi"] or words[2] not in ("tag-resources", "untag-resources"):
    sys.exit(f"not a Resource Groups Tagging API command: {line}")
parser = argparse.ArgumentParser(prog=words[2])
parser.add_argument("--region", required=True)
parser.add_argument("--resource-arn-list", nargs="+", required=True)
parser.add_argument("--tags", nargs="+")
parser.add_argument("--tag-keys", nargs="+")
args = parser.parse_args(words[3:])
client = boto3.client("resourcegroupstaggingapi", endpoint_url=endpoint, region_name=args.region,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
if words[2] == "tag-resources":
    tags = dict(item.split("=", 1) for item in args.tags)
    answer = client.tag_resources(ResourceARNList=args.resource_arn_list, Tags=tags)
else:
    answer = client.untag_resources(ResourceARNList=args.resource_arn_list, TagKeys=args.tag_keys)
if answer["FailedResourcesMap"]:
    sys.exit(f"failed: {answer['FailedResourcesMap']}")
"#;
        let output = Command::new(python())
            .args(["-c", SCRIPT, &self.endpoint, command_line])
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", self.server.empty_aws_file())
            .env("AWS_SHARED_CREDENTIALS_FILE", self.server.empty_aws_file())
            .output()
            .expect("run the venv python for a tagging command");
        assert!(
            output.status.success(),
            "`{command_line}` failed against moto: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The tool's clients, built the way the tool builds them, pointing at this server.
    pub async fn clients(&self, region: &str) -> s3_provisioner::aws::AwsClients {
        self.server.clients(region, "testing").await
    }

    /// moto's request recorder (`/moto-api/recorder/…`): `start` it before a run, `download`
    /// returns one JSON line per request the server received since.
    pub fn recorder(&self, verb: &str) -> String {
        const SCRIPT: &str = r"
import sys, urllib.request
endpoint, verb = sys.argv[1], sys.argv[2]
method = 'POST' if verb != 'download' else 'GET'
request = urllib.request.Request(f'{endpoint}/moto-api/recorder/{verb}-recording', method=method, data=b'' if method == 'POST' else None)
sys.stdout.write(urllib.request.urlopen(request).read().decode())
";
        let output = std::process::Command::new(python())
            .args(["-c", SCRIPT, &self.endpoint, verb])
            .output()
            .expect("run the venv python for moto's recorder");
        assert!(
            output.status.success(),
            "moto recorder {verb}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("the recording is UTF-8")
    }

    /// Clients acting in `account` with the credentials of its role `role`, assumed here,
    /// outside the tool (moto's AssumeRole gives credentials that act in the role's account): for
    /// reading back what a `--role-name` run made in each account.
    pub async fn clients_in_account(
        &self,
        region: &str,
        account: &str,
        role: &str,
    ) -> s3_provisioner::aws::AwsClients {
        let base = self.sdk_config(region).await;
        let answer = aws_sdk_sts::Client::new(&base)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
            .role_session_name("test-inventory")
            .send()
            .await
            .expect("AssumeRole for the inventory");
        let given = answer.credentials().expect("credentials");
        let credentials = aws_sdk_sts::config::Credentials::new(
            given.access_key_id(),
            given.secret_access_key(),
            Some(given.session_token().to_owned()),
            None,
            "test",
        );
        let config = base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .build();
        s3_provisioner::aws::AwsClients::from_sdk_config(&config)
    }
}

/// A temporary tool working folder with `configs/ templates/ policies/ reports/`.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("s3p-test-")
            .tempdir()
            .expect("create a temp working folder");
        for sub in ["configs", "templates", "policies", "reports"] {
            std::fs::create_dir(dir.path().join(sub)).expect("create working sub-folder");
        }
        Workdir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `configs/<file_name>` and return its path.
    pub fn write_config(&self, file_name: &str, yaml: &str) -> PathBuf {
        let path = self.path().join("configs").join(file_name);
        std::fs::write(&path, yaml).expect("write test config");
        path
    }

    /// Files in `reports/`, sorted.
    pub fn reports(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path().join("reports"))
            .expect("read reports/")
            .map(|entry| entry.expect("reports/ entry").path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        files
    }
}

impl Default for Workdir {
    fn default() -> Self {
        Self::new()
    }
}

/// A valid site config for tests: company_prefix `edge`, moto's account, env `prod`.
/// `extra_s3` holds extra lines for the `s3:` section (unindented; indented here), e.g.
/// `"versioning: true\nlifecycle_policy: ml-optimized"`.
pub fn site_config(tenant_id: &str, region: &str, extra_s3: &str) -> String {
    let mut yaml = format!(
        "client:\n  company_name: Edge Corp\n  company_prefix: edge\n  account_id: \"{MOTO_ACCOUNT}\"\n  tenant_id: \"{tenant_id}\"\nenvironment:\n  env: prod\n  region: {region}\ns3:\n"
    );
    let mut any = false;
    for line in extra_s3.lines() {
        if !line.trim().is_empty() {
            yaml.push_str("  ");
            yaml.push_str(line);
            yaml.push('\n');
            any = true;
        }
    }
    if !any {
        yaml.push_str("  versioning: true\n");
    }
    yaml
}
