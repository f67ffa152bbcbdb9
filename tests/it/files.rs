//! Files the tool reads and writes, as users meet them through the binary: what `--config` may
//! name (only regular files; a FIFO must never block), report files under concurrent runs, file
//! modes, report retention. No AWS: every command here is local.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

use crate::support::local::{self, repo_configs};

const SHARED_SITE: &str = "edge-prod-b001-us-west-1-s3.yaml";

/// A working folder holding a copy of the shared-bucket example config.
fn site() -> tempfile::TempDir {
    local::site_with(&[SHARED_SITE])
}

/// The binary with a clean, hermetic environment, run from `cwd`; never runs longer than a minute.
fn provisioner(cwd: &Path) -> Command {
    let mut command = local::provisioner(cwd);
    command.timeout(Duration::from_mins(1));
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

/// The path a run printed as `report: PATH`.
fn printed_report(stderr: &str) -> PathBuf {
    let line = stderr
        .lines()
        .find_map(|line| line.strip_prefix("report: "))
        .unwrap_or_else(|| panic!("no report line in {stderr}"));
    PathBuf::from(line)
}

#[test]
fn twenty_concurrent_runs_leave_forty_distinct_whole_reports() {
    let work = site();
    let configs: Vec<String> = (1..=20).map(|n| format!("c{n:02}.yaml")).collect();
    for name in &configs {
        std::fs::copy(
            repo_configs().join(SHARED_SITE),
            work.path().join("configs").join(name),
        )
        .unwrap();
    }
    // All twenty start before any is waited for, so most write their reports in the same second.
    let children: Vec<_> = configs
        .iter()
        .map(|name| {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_s3-provisioner"));
            command
                .current_dir(work.path())
                .env("NO_COLOR", "1")
                .env_remove("S3P_REPORTS_DIR")
                .env_remove("S3P_KEEP_REPORTS")
                .args(["--config", name, "--action", "validate-config"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    let mut printed = std::collections::BTreeSet::new();
    for (name, child) in configs.iter().zip(children) {
        let output = child.wait_with_output().unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        let log = work.path().join(printed_report(&stderr));
        let json = log.with_extension("json");
        let document: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(
            document["config"],
            format!("configs/{name}"),
            "{}",
            json.display()
        );
        let first = std::fs::read_to_string(&log).unwrap();
        assert!(
            first
                .lines()
                .next()
                .unwrap()
                .ends_with(&format!("INFO valid: configs/{name}")),
            "{} is another run's log:\n{first}",
            log.display()
        );
        assert!(printed.insert(log), "two runs printed the same report path");
    }
    let files = std::fs::read_dir(work.path().join("reports"))
        .unwrap()
        .count();
    assert_eq!(files, 40);
}

#[cfg(unix)]
#[test]
fn written_files_get_0666_minus_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    for (umask, want) in [("022", 0o644), ("002", 0o664)] {
        let work = site();
        for action in ["create-prov-template", "create-policy"] {
            // The umask is set by a shell, as a user's login shell sets it.
            let binary = env!("CARGO_BIN_EXE_s3-provisioner");
            let output = std::process::Command::new("sh")
                .current_dir(work.path())
                .env("NO_COLOR", "1")
                .env_remove("S3P_KEEP_REPORTS")
                .args(["-c", &format!("umask {umask}; exec \"$0\" \"$@\"")])
                .arg(binary)
                .args(["--config", SHARED_SITE, "--action", action])
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        }
        for dir in ["templates", "policies", "reports"] {
            for entry in std::fs::read_dir(work.path().join(dir)).unwrap() {
                let entry = entry.unwrap();
                let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                assert_eq!(
                    mode,
                    want,
                    "{dir}/{} with umask {umask}: {mode:o}",
                    entry.file_name().to_string_lossy()
                );
            }
        }
    }
}

#[test]
fn keep_reports_keeps_the_newest_pairs_of_that_deployment_and_action_only() {
    let work = site();
    let reports = work.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let others = [
        "edge-prod-b001-us-west-1-s3-create-policy-20200101T000000Z.log",
        "other-site-validate-config-20200101T000000Z.log",
        "edge-prod-b001-us-west-1-s3-validate-config-notes.txt",
    ];
    for name in others {
        std::fs::write(reports.join(name), "kept").unwrap();
    }
    let mut printed = Vec::new();
    for keep in [("--keep-reports", "2"), ("--keep-reports", "2"), ("", "2")] {
        let mut command = provisioner(work.path());
        command.args(["--config", SHARED_SITE, "--action", "validate-config"]);
        if keep.0.is_empty() {
            command.env("S3P_KEEP_REPORTS", keep.1);
        } else {
            command.args([keep.0, keep.1]);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        printed.push(printed_report(&stderr_of(&output)));
    }
    let mut left: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let mut want: Vec<String> = others.iter().map(|s| (*s).to_owned()).collect();
    for log in &printed[1..] {
        let log = log.file_name().unwrap().to_string_lossy().into_owned();
        want.push(log.replace(".log", ".json"));
        want.push(log);
    }
    want.sort();
    assert_eq!(left, want);

    // 0 keeps everything.
    for _ in 0..3 {
        let output = provisioner(work.path())
            .args(["--config", SHARED_SITE, "--action", "validate-config"])
            .args(["--keep-reports", "0"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
    }
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 3 + 4 + 6);
}

#[test]
fn a_glob_or_a_repeated_config_prints_a_fleet_document_even_for_one_file() {
    let work = site();
    for args in [
        &["--config", "edge-prod-b001-*.yaml"][..],
        &["--config", SHARED_SITE, "--config", SHARED_SITE][..],
    ] {
        let output = provisioner(work.path())
            .args(args)
            .args(["--action", "validate-config", "--output", "json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let runs = document["runs"].as_array().expect("a fleet document");
        assert_eq!(runs.len(), 1, "{args:?}");
        assert_eq!(runs[0]["config"], format!("configs/{SHARED_SITE}"));
        assert_eq!(document["exit_code"], 0);
    }
    // One plain --config is one document, as the guide's commands expect.
    let output = provisioner(work.path())
        .args(["--config", SHARED_SITE, "--action", "validate-config"])
        .args(["--output", "json"])
        .output()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["config"], format!("configs/{SHARED_SITE}"));
}

#[test]
fn debug_logs_are_never_coloured_on_a_pipe_or_with_no_color() {
    let work = site();
    for extra in [&[][..], &["--no-color"][..]] {
        // RUST_LOG makes the SDK log plenty; the endpoint is a closed port, so the run fails fast.
        let output = provisioner(work.path())
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "debug")
            .args(["--config", SHARED_SITE, "--action", "show-changes", "-vv"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert!(stderr.contains("DEBUG"), "no debug log lines: {stderr}");
        assert!(
            !stderr.contains('\x1b'),
            "colour escapes on a pipe: {stderr}"
        );
    }
}

#[test]
fn control_characters_in_command_line_values_are_shown_escaped() {
    let work = site();
    let cases: [&[&str]; 3] = [
        &["--config", SHARED_SITE, "--solution", "\x1b[31mx"],
        &["--config", "a\nerror: forged.yaml"],
        &["--config", "\x1b]0;title\x07*.yaml"],
    ];
    for args in cases {
        let output = provisioner(work.path())
            .args(args)
            .args(["--action", "validate-config"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(
            !stderr.contains(['\x1b', '\x07']),
            "raw control characters: {stderr:?}"
        );
        assert!(
            !stderr.lines().any(|line| line.starts_with("error: forged")),
            "a value forged a line: {stderr}"
        );
    }
    let output = provisioner(work.path())
        .args(["--config", "a\nb.yaml", "--action", "validate-config"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(r#"config file "configs/a\nb.yaml" not found"#),
        "{stderr}"
    );
}
