//! README promises, against a local AWS (moto through the faithful launcher): fleet `--parallel`
//! bounds the configs in flight (observed in the fleet document's own timestamps while the
//! launcher makes each run's first call slow), the fleet exits with the worst code in the
//! README's order across 0/1/2/3/4; test-deploy with a failing check exits 1 and removes its copy;
//! tear-down asks for the bucket name on a terminal; `--profile` picks that profile's credentials;
//! `check-drift --test-id` checks the test copy.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::moto::MOTO_ACCOUNT;
use support::{
    MotoServer, Workdir, block_on, bucket_names, deploy_shared_site, live_stacks, shared_site,
    site_config,
};

const REGION: &str = "us-west-1";

fn config_name(tenant: &str) -> String {
    format!("edge-prod-{tenant}-{REGION}-s3.yaml")
}

/// Run the tool; exit code, stdout, stderr.
fn run(server: &MotoServer, work: &Workdir, args: &[&str]) -> (Option<i32>, String, String) {
    let output = server.command(work.path()).args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn suspend_versioning(server: &MotoServer, bucket: &str) {
    block_on(async {
        let aws = server.clients(REGION).await;
        aws.s3
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Suspended)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
}

fn inventory(server: &MotoServer) -> (Vec<String>, Vec<String>) {
    block_on(async {
        let aws = server.clients(REGION).await;
        (bucket_names(&aws).await, live_stacks(&aws).await)
    })
}

/// Nanoseconds since the epoch of an RFC 3339 UTC time as the tool writes it
/// (`2026-12-02T04:24:18.345324246Z`).
fn epoch_nanos(text: &str) -> i128 {
    let (date, time) = text.trim_end_matches('Z').split_once('T').unwrap();
    let mut ymd = date.split('-').map(|p| p.parse::<i64>().unwrap());
    let (y, m, d) = (
        ymd.next().unwrap(),
        ymd.next().unwrap(),
        ymd.next().unwrap(),
    );
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().unwrap());
    let seconds = days * 86_400
        + parts.next().unwrap() * 3600
        + parts.next().unwrap() * 60
        + parts.next().unwrap();
    let nanos: i128 = format!("{fraction:0<9}")[..9].parse().unwrap();
    i128::from(seconds) * 1_000_000_000 + nanos
}

/// The most runs of a fleet document that were in flight at one moment.
fn most_in_flight(fleet: &Value) -> usize {
    let spans: Vec<(i128, i128)> = fleet["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| {
            let start = epoch_nanos(run["started_at"].as_str().unwrap());
            let elapsed = i128::from(u32::try_from(run["elapsed_ms"].as_u64().unwrap()).unwrap());
            (start, start + elapsed * 1_000_000)
        })
        .collect();
    spans
        .iter()
        .map(|(at, _)| spans.iter().filter(|(s, e)| s <= at && at < e).count())
        .max()
        .unwrap()
}

#[test]
fn fleet_parallel_bounds_the_configs_in_flight_and_exits_with_the_worst_code() {
    // Every run's first call (the account check) takes a second, so runs overlap for certain.
    let server =
        MotoServer::start_with_faults(Some(r#"[{"match": "GetCallerIdentity", "delay": 1.0}]"#));
    let work = Workdir::new();

    // Six configs that are not deployed: check-drift exits 1 for each, after the slow call.
    let idle: Vec<String> = (11..17)
        .map(|n| {
            let tenant = format!("b0{n}");
            shared_site(&work, &tenant, REGION, "versioning: true").config
        })
        .collect();
    let mut args = vec![
        "--action",
        "check-drift",
        "--output",
        "json",
        "--parallel",
        "3",
    ];
    for config in &idle {
        args.extend(["--config", config.as_str()]);
    }
    let (code, stdout, stderr) = run(&server, &work, &args);
    assert_eq!(code, Some(1), "{stderr}");
    let fleet: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(fleet["exit_code"], 1);
    let runs = fleet["runs"].as_array().unwrap();
    assert_eq!(runs.len(), idle.len(), "one entry per config");
    for (run, config) in runs.iter().zip(&idle) {
        assert!(
            run["config"].as_str().unwrap().ends_with(config.as_str()),
            "{run:#}"
        );
        assert_eq!(run["exit_code"], 1);
    }
    assert_eq!(
        most_in_flight(&fleet),
        3,
        "--parallel 3: at most, and really, 3 at once"
    );

    let (code, stdout, _) = run(&server, &work, &{
        let mut one = args.clone();
        one[5] = "1";
        one
    });
    assert_eq!(code, Some(1));
    let serial: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        most_in_flight(&serial),
        1,
        "--parallel 1 runs one at a time"
    );

    // Worst code: interrupted > failure > refused > invalid > differences > success.
    let ok = deploy_shared_site(&server, &work, "b001", REGION, "versioning: true");
    let drifted = deploy_shared_site(&server, &work, "b002", REGION, "versioning: true");
    suspend_versioning(&server, &drifted.bucket);
    let invalid = config_name("b003");
    work.write_config(&invalid, "client: [unclosed\n");
    let refused = config_name("b004");
    work.write_config(
        &refused,
        &site_config("b004", REGION, "versioning: true").replace(MOTO_ACCOUNT, "999999999999"),
    );
    let failed = idle[0].clone();
    let (ok, drifted) = (ok.config.as_str(), drifted.config.as_str());
    let (invalid, refused, failed) = (invalid.as_str(), refused.as_str(), failed.as_str());
    // Two or more configs: one plain --config would print a single result document.
    let cases: [(&[&str], i32); 5] = [
        (&[ok, drifted], 3),
        (&[ok, drifted, invalid], 2),
        (&[drifted, invalid, refused], 4),
        (&[invalid, refused, failed], 1),
        (&[ok, drifted, invalid, refused, failed], 1),
    ];
    for (configs, worst) in cases {
        let mut args = vec!["--action", "check-drift", "--output", "json"];
        for config in configs {
            args.extend(["--config", config]);
        }
        let (code, stdout, stderr) = run(&server, &work, &args);
        assert_eq!(code, Some(worst), "{configs:?}: {stderr}");
        let fleet: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(fleet["exit_code"], worst, "{configs:?}");
        let each: Vec<i64> = fleet["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["exit_code"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = configs
            .iter()
            .map(|c| match *c {
                c if c == ok => 0,
                c if c == drifted => 3,
                c if c == invalid => 2,
                c if c == refused => 4,
                _ => 1,
            })
            .collect();
        assert_eq!(
            each, expected,
            "{configs:?}: each config's own code, in order"
        );
    }
}

/// A running tool whose stderr lines arrive on a channel (stdout is collected on a thread).
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: std::thread::JoinHandle<String>,
}

impl Running {
    fn spawn(server: &MotoServer, work: &Workdir, args: &[&str]) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_s3-provisioner"));
        command.current_dir(work.path());
        for key in MotoServer::ENV_REMOVE {
            command.env_remove(key);
        }
        command.envs(server.env()).env("NO_COLOR", "1").args(args);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        Running {
            child,
            lines,
            stdout,
        }
    }

    /// Wait (bounded) for a stderr line containing `text`; returns every line seen so far.
    fn wait_for(&self, text: &str, seen: &mut Vec<String>) {
        let deadline = Instant::now() + Duration::from_mins(2);
        while !seen.iter().any(|l| l.contains(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no line with {text:?}; stderr:\n{}", seen.join("\n")));
            seen.push(line);
        }
    }

    fn finish(mut self, seen: &mut Vec<String>) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        seen.extend(self.lines.iter());
        (status.code(), self.stdout.join().unwrap())
    }
}

#[test]
fn test_deploy_with_a_failing_check_exits_1_and_removes_the_copy() {
    // The copy's first versioning read waits 3 s: time for "someone" to suspend versioning on the
    // copy after it was deployed and before it is checked, as a person or another tool might.
    let server = MotoServer::start_with_faults(Some(
        r#"[{"match": "^GET /edge-prod-b001-us-west-1-s3-t[0-9a-f]{6}/?\\?versioning", "delay": 3.0}]"#,
    ));
    let work = Workdir::new();
    let site = shared_site(&work, "b001", REGION, "versioning: true");
    let running = Running::spawn(
        &server,
        &work,
        &["--config", &site.config, "--action", "test-deploy"],
    );
    let mut seen = Vec::new();
    running.wait_for("Checking test deployment", &mut seen);
    let copy = seen
        .iter()
        .find_map(|l| l.strip_prefix("Test deployment "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the copy's name is printed")
        .to_owned();
    suspend_versioning(&server, &copy);
    let (code, stdout) = running.finish(&mut seen);
    let stderr = seen.join("\n");
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("FAIL versioning"), "{stdout}");
    assert!(stdout.contains("PASS encryption"), "{stdout}");
    assert!(stderr.contains("check(s) of test deployment"), "{stderr}");
    assert!(
        stdout.contains(&format!("Removed test deployment {copy}")),
        "{stdout}"
    );
    assert_eq!(
        inventory(&server),
        (Vec::new(), Vec::new()),
        "nothing left behind"
    );
}

/// Answer the typed-confirmation prompt with `answer`; the exit code and what the terminal showed.
fn answer_tear_down_prompt(
    server: &MotoServer,
    work: &Workdir,
    config: &str,
    answer: &str,
) -> (Option<i32>, String) {
    let (mut child, chunks) = server.on_terminal(
        work.path(),
        &format!("--config {config} --action tear-down"),
    );
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_mins(1);
    while !seen.contains("to confirm: ") {
        assert!(Instant::now() < deadline, "no prompt; output:\n{seen}");
        if let Ok(chunk) = chunks.recv_timeout(Duration::from_millis(200)) {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_mins(2);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            Instant::now() < deadline,
            "tear-down did not finish:\n{seen}"
        );
        if let Ok(chunk) = chunks.recv_timeout(Duration::from_millis(200)) {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    while let Ok(chunk) = chunks.recv_timeout(Duration::from_millis(300)) {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    (code, seen)
}

#[test]
fn tear_down_on_a_terminal_needs_the_bucket_name_typed() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy_shared_site(&server, &work, "b001", REGION, "versioning: true");

    let (code, seen) = answer_tear_down_prompt(&server, &work, &site.config, "yes");
    assert_eq!(code, Some(4), "{seen}");
    assert!(
        seen.contains(&format!("Type `{}` to confirm:", site.bucket)),
        "{seen}"
    );
    assert!(seen.contains("did not match"), "{seen}");
    let (buckets, stacks) = inventory(&server);
    assert!(
        buckets.contains(&site.bucket) && stacks.contains(&site.stack),
        "nothing deleted"
    );

    let (code, seen) = answer_tear_down_prompt(&server, &work, &site.config, &site.bucket);
    assert_eq!(code, Some(0), "{seen}");
    assert_eq!(inventory(&server), (Vec::new(), Vec::new()), "{seen}");
}

#[test]
fn profile_selects_that_profiles_credentials_even_with_keys_in_the_environment() {
    let server = MotoServer::start();
    let work = Workdir::new();
    // Credentials of account 111122223333: moto's AssumeRole into a role of that account.
    let credentials = block_on(async {
        let sts = aws_sdk_sts::Client::new(&server.sdk_config("us-east-1").await);
        sts.assume_role()
            .role_arn("arn:aws:iam::111122223333:role/operator")
            .role_session_name("s3p-profile-test")
            .send()
            .await
            .unwrap()
            .credentials
            .unwrap()
    });
    let aws_config = work.path().join("aws-config");
    std::fs::write(
        &aws_config,
        format!(
            "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n[profile operator]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        ),
    )
    .unwrap();
    let config = config_name("b001");
    work.write_config(
        &config,
        &site_config("b001", REGION, "versioning: true").replace(MOTO_ACCOUNT, "111122223333"),
    );
    // MotoServer::command puts AWS_ACCESS_KEY_ID=testing (account 123456789012) in the environment.
    let tool = |extra: &[&str]| {
        let output = server
            .command(work.path())
            .env("AWS_CONFIG_FILE", &aws_config)
            .args(["--config", &config, "--action", "check-drift"])
            .args(extra)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = tool(&[]);
    assert_eq!(
        code,
        Some(4),
        "the environment's keys are another account: {stderr}"
    );
    assert!(
        stderr.contains("belong to account 123456789012"),
        "{stderr}"
    );

    let (code, stderr) = tool(&["--profile", "operator"]);
    // The account check passed; the deployment simply does not exist yet.
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("belong to account"), "{stderr}");
    assert!(stderr.contains("is not deployed"), "{stderr}");
}

#[test]
fn check_drift_with_test_id_checks_the_kept_test_copy() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = shared_site(&work, "b001", REGION, "versioning: true");
    let (code, stdout, stderr) = run(
        &server,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "test-deploy",
            "--keep",
            "--output",
            "json",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let kept: Value = serde_json::from_str(&stdout).unwrap();
    let test_id = kept["result"]["test_id"].as_str().unwrap().to_owned();
    let copy = format!("{}-{test_id}", site.bucket);
    let drift = [
        "--config",
        site.config.as_str(),
        "--action",
        "check-drift",
        "--output",
        "json",
    ];

    let (code, stdout, stderr) = run(
        &server,
        &work,
        &[&drift[..], &["--test-id", &test_id]].concat(),
    );
    assert_eq!(code, Some(0), "the copy is in sync: {stderr}");
    let document: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(document["deployment"]["name"], copy);
    assert_eq!(document["result"]["bucket"], copy);

    suspend_versioning(&server, &copy);
    let (code, stdout, stderr) = run(
        &server,
        &work,
        &[&drift[..], &["--test-id", &test_id]].concat(),
    );
    assert_eq!(code, Some(3), "drift on the copy: {stderr}");
    let document: Value = serde_json::from_str(&stdout).unwrap();
    assert!(document.to_string().contains("Suspended"), "{document:#}");

    // Without --test-id it is the real deployment, which was never deployed.
    let (code, _, stderr) = run(&server, &work, &drift);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is not deployed"), "{stderr}");

    let (code, _, stderr) = run(
        &server,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "tear-down",
            "--test-id",
            &test_id,
            "--force",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(inventory(&server), (Vec::new(), Vec::new()));
}
