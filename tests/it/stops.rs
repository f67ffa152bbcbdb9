//! Stopping early, as users meet it: an endpoint that accepts connections and never answers
//! (every AWS action must end by its `--timeout` deadline, exit 1, naming the endpoint and the
//! step), and Ctrl-C — sent as SIGINT to the tool's own process only — at the confirmation
//! prompt, while a change set is computed, while folder markers are created and while a bucket
//! is emptied: exit 130, the report written, the resume command printed, and the resumed run
//! finishing with nothing lost or left behind.
//!
//! The moments are made deterministic with the launcher's fault injection (a delayed request),
//! never by guessing sleep lengths: the test waits for the tool's own progress line, then sends
//! the signal while the delayed request is in flight.

use crate::support;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{MotoServer, Workdir, shared_site};

/// A socket that accepts connections and never answers, held open for the test's lifetime.
fn stalled_endpoint() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(64) {
            match stream {
                Ok(stream) => held.push(stream),
                Err(_) => break,
            }
        }
    });
    (endpoint, holder)
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_s3-provisioner")
}

/// The tool in `workdir` with test credentials against `endpoint`.
fn tool(workdir: &Path, endpoint: &str) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(workdir);
    for key in MotoServer::ENV_REMOVE {
        command.env_remove(key);
    }
    let empty = workdir.join("empty-aws-file");
    std::fs::write(&empty, "").unwrap();
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("NO_COLOR", "1");
    command
}

#[test]
fn a_stalled_endpoint_ends_every_aws_action_by_its_deadline_naming_the_endpoint() {
    let (endpoint, _holder) = stalled_endpoint();
    let work = Workdir::new();
    let site = shared_site(&work, "b001", "us-west-1", "versioning: true");
    let actions: [(&str, &[&str]); 8] = [
        ("show-changes", &[]),
        ("check-drift", &[]),
        ("upload-template", &[]),
        ("prep-master", &["--force"]),
        ("deploy-solution", &["--solution", "recommendation-engine"]),
        ("create-bucket", &["--solution", "fraud-model", "--force"]),
        ("test-deploy", &[]),
        ("tear-down", &["--force"]),
    ];
    for (action, extra) in actions {
        let started = Instant::now();
        let output = tool(work.path(), &endpoint)
            .args([
                "--config",
                &site.config,
                "--action",
                action,
                "--timeout",
                "3",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{action}: {stderr}");
        // A hang is what this proves absent; the bound is generous for a loaded machine.
        assert!(took < Duration::from_secs(30), "{action} took {took:?}");
        assert!(
            stderr.contains("gave up after 3 s (--timeout 3)"),
            "{action}: {stderr}"
        );
        assert!(stderr.contains(&endpoint), "{action}: {stderr}");
        assert!(
            stderr.contains("sts:GetCallerIdentity")
                && stderr.contains("checking which AWS account"),
            "{action}: {stderr}"
        );
        assert!(stderr.contains("Nothing was changed"), "{action}: {stderr}");
    }
}

/// A running tool whose stderr lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn spawn(mut command: Command) -> Running {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait (bounded) for a stderr line containing `text`.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_mins(1);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let found = line.contains(text);
                self.seen.push(line);
                if found {
                    return;
                }
            }
        }
        panic!(
            "no line with {text:?}; stderr so far:\n{}",
            self.seen.join("\n")
        );
    }

    /// SIGINT to this process only, then its exit code and the rest of its stderr.
    fn interrupt(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success());
        let status = wait_bounded(&mut self.child, Duration::from_mins(1));
        let mut rest = String::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.seen.push(line);
        }
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut rest);
        }
        self.seen.push(rest);
        (status, self.seen.join("\n"))
    }
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the tool did not exit within {limit:?} of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn moto_tool(moto: &MotoServer, work: &Workdir) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(work.path());
    for key in MotoServer::ENV_REMOVE {
        command.env_remove(key);
    }
    command.envs(moto.env()).env("NO_COLOR", "1");
    command
}

fn reports_of(work: &Workdir, action: &str) -> Vec<String> {
    work.reports()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|name| {
            name.contains(action)
                && Path::new(name)
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
        })
        .collect()
}

fn stack_count(moto: &MotoServer, region: &str) -> usize {
    support::block_on(async {
        support::live_stacks(&moto.clients(region).await)
            .await
            .len()
    })
}

fn buckets(moto: &MotoServer, region: &str) -> Vec<String> {
    support::block_on(async { support::bucket_names(&moto.clients(region).await).await })
}

fn keys(moto: &MotoServer, region: &str, bucket: &str, prefix: &str) -> Vec<String> {
    support::block_on(async {
        support::keys_under(&moto.clients(region).await, bucket, prefix).await
    })
}

/// Run the tool with `args`, send Ctrl-C once it has printed a line containing `line` (a delayed
/// request is then in flight), and check the common outcome: exit 130 and one report of
/// `action`. Returns everything the tool printed.
fn interrupt_at(moto: &MotoServer, work: &Workdir, args: &[&str], line: &str) -> String {
    let mut command = moto_tool(moto, work);
    command.args(args);
    let mut running = Running::spawn(command);
    running.wait_for(line);
    std::thread::sleep(Duration::from_millis(500));
    let (code, text) = running.interrupt();
    assert_eq!(code, Some(130), "{text}");
    let action = args
        .iter()
        .skip_while(|arg| **arg != "--action")
        .nth(1)
        .expect("an --action");
    assert_eq!(reports_of(work, action).len(), 1, "{text}");
    text
}

#[test]
fn ctrl_c_while_the_change_set_is_computed_deletes_it_and_the_rerun_deploys() {
    let moto = MotoServer::start_with_faults(Some(
        r#"[{"match": "DescribeChangeSet", "delay": 3, "count": 1}]"#,
    ));
    let work = Workdir::new();
    let site = shared_site(&work, "b001", "us-west-1", "versioning: true");
    let text = interrupt_at(
        &moto,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "prep-master",
            "--force",
        ],
        "Computing the changes",
    );
    assert!(
        text.contains("interrupted (Ctrl-C) while computing the changes to stack"),
        "{text}"
    );
    assert!(
        text.contains("was deleted before it was executed"),
        "{text}"
    );
    assert!(
        text.contains("To resume: s3-provisioner --config edge-prod-b001-us-west-1-s3.yaml --action prep-master --force"),
        "{text}"
    );
    // Nothing left behind: no stack (not even the REVIEW_IN_PROGRESS shell).
    assert_eq!(stack_count(&moto, "us-west-1"), 0, "{text}");

    moto.command(work.path())
        .args([
            "--config",
            &site.config,
            "--action",
            "prep-master",
            "--force",
        ])
        .assert()
        .success();
    assert_eq!(stack_count(&moto, "us-west-1"), 1);
}

#[test]
fn ctrl_c_while_markers_are_created_says_so_and_the_rerun_creates_the_rest() {
    let moto = MotoServer::start_with_faults(Some(
        r#"[{"match": "^PUT /edge-prod-b001-us-west-1-s3/solutions/recommendation-engine/", "delay": 2, "count": 40}]"#,
    ));
    let work = Workdir::new();
    let site = support::deploy_shared_site(&moto, &work, "b001", "us-west-1", "versioning: true");
    let text = interrupt_at(
        &moto,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "deploy-solution",
            "--solution",
            "recommendation-engine",
        ],
        "Creating the folders of recommendation-engine",
    );
    assert!(
        text.contains("interrupted (Ctrl-C) while creating the folders"),
        "{text}"
    );
    assert!(
        text.contains("--action deploy-solution --solution recommendation-engine"),
        "{text}"
    );

    moto.command(work.path())
        .args([
            "--config",
            &site.config,
            "--action",
            "deploy-solution",
            "--solution",
            "recommendation-engine",
        ])
        .assert()
        .success();
    let keys = keys(
        &moto,
        "us-west-1",
        &site.bucket,
        "solutions/recommendation-engine/",
    );
    assert_eq!(
        keys.len(),
        s3_provisioner::blueprint::marker_keys("recommendation-engine").len() - 1,
        "every marker under the solution exists after the rerun: {keys:?}"
    );
}

#[test]
fn ctrl_c_while_a_bucket_is_emptied_leaves_a_rerunnable_tear_down() {
    let moto = MotoServer::start_with_faults(Some(
        r#"[{"match": "^POST /edge-prod-b001-us-west-1-s3/?[?](.*&)?delete", "delay": 3, "count": 1}]"#,
    ));
    let work = Workdir::new();
    let site = support::deploy_shared_site(&moto, &work, "b001", "us-west-1", "versioning: true");
    let text = interrupt_at(
        &moto,
        &work,
        &["--config", &site.config, "--action", "tear-down", "--force"],
        "Emptying bucket",
    );
    assert!(
        text.contains("interrupted (Ctrl-C) while emptying bucket"),
        "{text}"
    );
    assert!(
        text.contains("listed object versions were deleted"),
        "{text}"
    );
    assert!(text.contains("--action tear-down --force"), "{text}");

    moto.command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .success();
    assert_eq!(stack_count(&moto, "us-west-1"), 0);
    assert!(!buckets(&moto, "us-west-1").contains(&site.bucket));
}

/// prep-master on a terminal, stopped at its `[y/N]` prompt: the tool runs under `script`, which
/// gives it a terminal (`exec`: the tool replaces the shell, so it is script's own child).
struct Prompted {
    script: Child,
    stdin: std::process::ChildStdin,
    chunks: mpsc::Receiver<Vec<u8>>,
    /// Everything the terminal showed so far.
    seen: String,
}

impl Prompted {
    fn start(moto: &MotoServer, work: &Workdir, config: &str) -> Prompted {
        let (mut script, chunks) = moto.on_terminal(
            work.path(),
            &format!("--config {config} --action prep-master"),
        );
        let stdin = script.stdin.take().unwrap();
        let mut prompted = Prompted {
            script,
            stdin,
            chunks,
            seen: String::new(),
        };
        let deadline = Instant::now() + Duration::from_mins(1);
        while !prompted.seen.contains("[y/N]") {
            assert!(
                Instant::now() < deadline,
                "no prompt; output:\n{}",
                prompted.seen
            );
            prompted.read(Duration::from_millis(200));
        }
        prompted
    }

    fn read(&mut self, wait: Duration) -> bool {
        match self.chunks.recv_timeout(wait) {
            Ok(chunk) => {
                self.seen.push_str(&String::from_utf8_lossy(&chunk));
                true
            }
            Err(_) => false,
        }
    }

    /// The exit code (script exits with its child's) and everything the terminal showed.
    fn finish(mut self) -> (Option<i32>, String) {
        let code = wait_bounded(&mut self.script, Duration::from_mins(1));
        while self.read(Duration::from_millis(500)) {}
        (code, self.seen)
    }
}

/// Ctrl-C at the `[y/N]` prompt; the signal goes to the tool's own pid, never to a process group.
#[test]
fn ctrl_c_at_the_prompt_exits_130_with_nothing_created() {
    let moto = MotoServer::start();
    let work = Workdir::new();
    let site = shared_site(&work, "b001", "us-west-1", "versioning: true");
    let prompted = Prompted::start(&moto, &work, &site.config);
    assert!(
        prompted.seen.contains("AWS account 123456789012"),
        "the prompt names the account: {}",
        prompted.seen
    );
    let tool_pid = child_pid_of(prompted.script.id()).expect("the tool runs under script");
    assert!(
        Command::new("kill")
            .args(["-INT", &tool_pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let (code, seen) = prompted.finish();
    assert_eq!(code, Some(130), "{seen}");
    assert!(
        seen.contains("interrupted (Ctrl-C) while waiting for confirmation"),
        "{seen}"
    );
    assert!(
        seen.contains("was deleted before it was executed"),
        "{seen}"
    );
    assert_eq!(stack_count(&moto, "us-west-1"), 0, "{seen}");
    assert!(!buckets(&moto, "us-west-1").contains(&site.bucket));
    assert_eq!(reports_of(&work, "prep-master").len(), 1);
}

/// Answering "n" at the prompt is the person's choice: exit 4, said as an outcome, not as an
/// `error:` line, and nothing is created.
#[test]
fn no_at_the_prompt_is_an_outcome_not_an_error() {
    let moto = MotoServer::start();
    let work = Workdir::new();
    let site = shared_site(&work, "b001", "us-west-1", "versioning: true");
    let mut prompted = Prompted::start(&moto, &work, &site.config);
    std::io::Write::write_all(&mut prompted.stdin, b"n\n").unwrap();
    let (code, seen) = prompted.finish();
    assert_eq!(code, Some(4), "{seen}");
    assert!(
        seen.contains("Not confirmed; nothing was changed"),
        "{seen}"
    );
    assert!(!seen.contains("error:"), "{seen}");
    assert_eq!(stack_count(&moto, "us-west-1"), 0, "{seen}");
}

/// The pid of the first child of `parent` (Linux /proc).
fn child_pid_of(parent: u32) -> Option<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let path = format!("/proc/{parent}/task/{parent}/children");
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Some(pid) = text.split_whitespace().next()
        {
            return pid.parse().ok();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// `--quiet` on a terminal: the stack's live event display is progress, so it is silent too —
/// not only the line-per-event form used off a terminal. Run under `script` so stderr is a TTY.
#[test]
fn quiet_on_a_terminal_shows_no_progress() {
    let moto = MotoServer::start();
    let work = Workdir::new();
    let site = shared_site(&work, "b001", "us-west-1", "versioning: true");
    let (mut script, chunks) = moto.on_terminal(
        work.path(),
        &format!(
            "--config {} --action prep-master --force --quiet",
            site.config
        ),
    );
    let code = wait_bounded(&mut script, Duration::from_mins(2));
    // The terminal has closed with the tool: every chunk it showed is in the channel.
    let seen = String::from_utf8_lossy(&chunks.iter().flatten().collect::<Vec<u8>>()).into_owned();
    assert_eq!(code, Some(0), "{seen}");
    assert_eq!(stack_count(&moto, "us-west-1"), 1, "{seen}");
    // The result names the stack's final status; progress is the in-progress events and the
    // display's redraws (erase-line), neither of which may reach the terminal.
    assert!(seen.contains("is ready"), "{seen}");
    for progress in ["CREATE_IN_PROGRESS", "User Initiated", "\x1b[2K"] {
        assert!(
            !seen.contains(progress),
            "progress shown with --quiet:\n{seen}"
        );
    }
}
