//! A fleet at scale, by simulation (a benchmark, not a test): N sites through prep-master at
//! `--parallel P`, through the tool's own code (`s3_provisioner::run_with`: the CLI, the fleet
//! runner, the engine, the SDK clients with their retries and the CloudFormation limiter),
//! against an in-process AWS on virtual time (a paused tokio runtime):
//!
//! - CloudFormation computes a change set in `CHANGE_SET_SECS` and runs every stack operation in
//!   `STACK_OP_SECS`; it answers `Throttling` to any call above `LIMIT_PER_SEC` calls in the last
//!   second of its account (all sites here share one account, the worst case);
//! - STS answers the sites' account; S3 answers HeadBucket 404 (the name is free) and accepts
//!   every folder marker;
//! - every request takes `LATENCY_MS` of (virtual) network time.
//!
//! Run by `scripts/bench-fleet-sim`; prints virtual wall time against the ideal
//! (`sites / parallel × STACK_OP_SECS`), CloudFormation calls per site, throttled calls and
//! failed sites.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use clap::Parser as _;
use tokio::time::Instant;

const ACCOUNT: &str = "123456789012";
const CHANGE_SET_SECS: u64 = 5;
const STACK_OP_SECS: u64 = 60;
const LIMIT_PER_SEC: usize = 10;
const LATENCY_MS: u64 = 20;

#[derive(Debug, Default)]
struct Stack {
    id: String,
    /// When the change set was created / the stack operation started (virtual time).
    change_set_at: Option<Instant>,
    executed_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct Aws {
    stacks: HashMap<String, Stack>,
    /// Accepted CloudFormation calls of the last second (the one account).
    recent: VecDeque<Instant>,
    cfn_calls: u64,
    throttled: u64,
    by_action: HashMap<String, u64>,
    unknown: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct FakeAws(Arc<Mutex<Aws>>);

impl HttpClient for FakeAws {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for FakeAws {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let host = request
            .uri()
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let uri = request.uri().to_owned();
        let method = request.method().to_owned();
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let aws = self.clone();
        HttpConnectorFuture::new(async move {
            tokio::time::sleep(Duration::from_millis(LATENCY_MS)).await;
            let (status, text) = aws.answer(&host, &method, &uri, &body);
            let mut response =
                Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(text));
            response.headers_mut().insert("content-type", "text/xml");
            Ok(response)
        })
    }
}

fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("3F");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn cfn_error(code: &str, message: &str) -> (u16, String) {
    (
        400,
        format!(
            "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>sim</RequestId></ErrorResponse>"
        ),
    )
}

fn cfn_ok(action: &str, result: &str) -> (u16, String) {
    (
        200,
        format!(
            "<{action}Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

fn iso(at: Instant, origin: Instant) -> String {
    let secs = 1_767_225_600 + (at - origin).as_secs();
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap())
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

impl FakeAws {
    fn answer(&self, host: &str, method: &str, uri: &str, body: &str) -> (u16, String) {
        let mut aws = self.0.lock().unwrap();
        if host.starts_with("sts.") {
            return (
                200,
                format!(
                    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/sim</Arn><UserId>AIDSIM</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
                ),
            );
        }
        if host.starts_with("cloudformation.") {
            return aws.cloudformation(&form(body));
        }
        // S3 (virtual-hosted): HeadBucket says the name is free, markers are accepted.
        match method {
            "HEAD" => (404, String::new()),
            "PUT" => (200, String::new()),
            "GET" if uri.contains("list-type=2") => (200, "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>".to_owned()),
            _ => {
                aws.unknown.push(format!("S3 {method} {uri}"));
                (400, "<Error><Code>NotImplemented</Code><Message>not simulated</Message></Error>".to_owned())
            }
        }
    }
}

impl Aws {
    fn cloudformation(&mut self, params: &HashMap<String, String>) -> (u16, String) {
        let now = Instant::now();
        let origin = *ORIGIN.get_or_init(|| now);
        let action = params.get("Action").cloned().unwrap_or_default();
        self.cfn_calls += 1;
        while self
            .recent
            .front()
            .is_some_and(|&at| now - at >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= LIMIT_PER_SEC {
            self.throttled += 1;
            return cfn_error("Throttling", "Rate exceeded");
        }
        self.recent.push_back(now);
        *self.by_action.entry(action.clone()).or_default() += 1;
        let name = params
            .get("StackName")
            .map(|n| n.rsplit('/').nth(1).map_or(n.clone(), str::to_owned))
            .unwrap_or_default();
        let missing = || {
            cfn_error(
                "ValidationError",
                &format!("Stack with id {name} does not exist"),
            )
        };
        match action.as_str() {
            "DescribeStacks" => {
                let Some(stack) = self.stacks.get(&name) else {
                    return missing();
                };
                let (status, outputs) = match stack.executed_at {
                    None => ("REVIEW_IN_PROGRESS", String::new()),
                    Some(at) if now - at < Duration::from_secs(STACK_OP_SECS) => {
                        ("CREATE_IN_PROGRESS", String::new())
                    }
                    Some(_) => (
                        "CREATE_COMPLETE",
                        format!(
                            "<Outputs><member><OutputKey>BucketName</OutputKey><OutputValue>{}</OutputValue></member></Outputs>",
                            name.trim_end_matches("-stack")
                        ),
                    ),
                };
                cfn_ok(
                    "DescribeStacks",
                    &format!(
                        "<Stacks><member><StackId>{}</StackId><StackName>{name}</StackName><StackStatus>{status}</StackStatus><CreationTime>{}</CreationTime>{outputs}<Tags><member><Key>s3-provisioner:deployment</Key><Value>{}</Value></member></Tags></member></Stacks>",
                        stack.id,
                        iso(now, origin),
                        name.trim_end_matches("-stack")
                    ),
                )
            }
            "CreateChangeSet" => {
                let id = format!("arn:aws:cloudformation:us-west-1:{ACCOUNT}:stack/{name}/sim");
                self.stacks.insert(
                    name.clone(),
                    Stack {
                        id: id.clone(),
                        change_set_at: Some(now),
                        executed_at: None,
                    },
                );
                cfn_ok(
                    "CreateChangeSet",
                    &format!(
                        "<Id>arn:aws:cloudformation:us-west-1:{ACCOUNT}:changeSet/cs/{name}</Id><StackId>{id}</StackId>"
                    ),
                )
            }
            "DescribeChangeSet" => {
                let Some(stack) = self.stacks.get(&name) else {
                    return missing();
                };
                let ready = stack
                    .change_set_at
                    .is_some_and(|at| now - at >= Duration::from_secs(CHANGE_SET_SECS));
                let (status, execution) = if ready {
                    ("CREATE_COMPLETE", "AVAILABLE")
                } else {
                    ("CREATE_IN_PROGRESS", "UNAVAILABLE")
                };
                cfn_ok(
                    "DescribeChangeSet",
                    &format!(
                        "<ChangeSetName>cs</ChangeSetName><ChangeSetId>cs</ChangeSetId><StackId>{}</StackId><StackName>{name}</StackName><Status>{status}</Status><ExecutionStatus>{execution}</ExecutionStatus><Changes><member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>Bucket</LogicalResourceId><ResourceType>AWS::S3::Bucket</ResourceType></ResourceChange></member></Changes>",
                        stack.id
                    ),
                )
            }
            "ExecuteChangeSet" => {
                let Some(stack) = self.stacks.get_mut(&name) else {
                    return missing();
                };
                stack.executed_at = Some(now);
                cfn_ok("ExecuteChangeSet", "")
            }
            "DescribeStackEvents" => {
                let Some(stack) = self.stacks.get(&name) else {
                    return missing();
                };
                let mut events = Vec::new();
                let event = |id: &str, at: Instant, status: &str| {
                    format!(
                        "<member><EventId>{id}</EventId><StackId>{}</StackId><StackName>{name}</StackName><LogicalResourceId>{name}</LogicalResourceId><ResourceType>AWS::CloudFormation::Stack</ResourceType><ResourceStatus>{status}</ResourceStatus><Timestamp>{}</Timestamp></member>",
                        stack.id,
                        iso(at, origin)
                    )
                };
                if let Some(at) = stack.executed_at {
                    let done = at + Duration::from_secs(STACK_OP_SECS);
                    if now >= done {
                        events.push(event("e3", done, "CREATE_COMPLETE"));
                    }
                    events.push(event("e2", at, "CREATE_IN_PROGRESS"));
                }
                if let Some(at) = stack.change_set_at {
                    events.push(event("e1", at, "REVIEW_IN_PROGRESS"));
                }
                cfn_ok(
                    "DescribeStackEvents",
                    &format!("<StackEvents>{}</StackEvents>", events.concat()),
                )
            }
            other => {
                self.unknown.push(format!("CloudFormation {other}"));
                cfn_error("InvalidAction", "not simulated")
            }
        }
    }
}

fn site_config(template: &str, index: usize) -> String {
    template.replace(
        "tenant_id: \"b001\"",
        &format!("tenant_id: \"s{index:03}\""),
    )
}

// Figures for a person: counts far below 2^52, so f64 is exact enough.
#[allow(clippy::cast_precision_loss)]
fn main() {
    use std::fmt::Write as _;
    let mut report = String::new();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sites: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let parallel: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    // `unlimited`: without the shared CloudFormation limiter (the SDK's retries only).
    let limited = args.get(2).map(String::as_str) != Some("unlimited");
    let limits = if limited {
        s3_provisioner::aws::cfn::limit::CallLimits::default()
    } else {
        s3_provisioner::aws::cfn::limit::CallLimits::unlimited()
    };
    let work = tempfile::tempdir().unwrap();
    let configs = work.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("configs/edge-prod-b001-us-west-1-s3.yaml"),
    )
    .unwrap();
    for index in 0..sites {
        std::fs::write(
            configs.join(format!("site-{index:04}.yaml")),
            site_config(&template, index),
        )
        .unwrap();
    }
    let fake = FakeAws::default();
    let cli = s3_provisioner::cli::Cli::parse_from([
        "s3-provisioner",
        "--config",
        "site-*.yaml",
        "--action",
        "prep-master",
        "--force",
        "-q",
        "--parallel",
        &parallel.to_string(),
        "--configs-dir",
        &configs.display().to_string(),
        "--templates-dir",
        &work.path().join("templates").display().to_string(),
        "--policies-dir",
        &work.path().join("policies").display().to_string(),
        "--reports-dir",
        &work.path().join("reports").display().to_string(),
        "--output",
        "json",
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let (status, wall) = runtime.block_on(async {
        let started = Instant::now();
        let status = s3_provisioner::run_with(
            cli,
            s3_provisioner::Injected {
                http_client: Some(SharedHttpClient::new(fake.clone())),
                cfn_limits: limits,
                ..Default::default()
            },
        )
        .await;
        (status, started.elapsed())
    });
    let aws = fake.0.lock().unwrap();
    // Each run's JSON report says how it ended.
    let mut failed = Vec::new();
    for entry in std::fs::read_dir(work.path().join("reports")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let document: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if document["exit_code"] != 0 {
                failed.push(
                    document["error"]["message"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned(),
                );
            }
        }
    }
    let ideal =
        Duration::from_secs(STACK_OP_SECS) * u32::try_from(sites.div_ceil(parallel)).unwrap();
    let _ = writeln!(
        report,
        "fleet-sim: {sites} sites, --parallel {parallel}, {}, stack operation {STACK_OP_SECS} s, change set {CHANGE_SET_SECS} s, Throttling above {LIMIT_PER_SEC} calls/s per account, {LATENCY_MS} ms per request",
        if limited {
            "shared CloudFormation limiter"
        } else {
            "no limiter"
        }
    );
    let _ = writeln!(report, "exit code: {}", status.code());
    let _ = writeln!(
        report,
        "virtual wall time: {:.1} s (ideal {} s, ratio {:.3})",
        wall.as_secs_f64(),
        ideal.as_secs(),
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "CloudFormation calls: {} ({:.1} per site), throttled: {}",
        aws.cfn_calls,
        aws.cfn_calls as f64 / sites as f64,
        aws.throttled
    );
    let _ = writeln!(report, "failed sites: {}", failed.len());
    if let Some(first) = failed.first() {
        let _ = writeln!(report, "first failure: {first}");
    }
    let mut by_action: Vec<_> = aws.by_action.iter().collect();
    by_action.sort();
    let _ = writeln!(report, "accepted calls by action: {by_action:?}");
    if !aws.unknown.is_empty() {
        let mut unknown = aws.unknown.clone();
        unknown.sort();
        unknown.dedup();
        let _ = writeln!(report, "NOT SIMULATED: {unknown:?}");
    }
    // The harness's own output (the tool's output went to stdout, through its Output).
    std::io::Write::write_all(&mut std::io::stderr(), report.as_bytes()).unwrap();
}
