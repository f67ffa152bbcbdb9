//! The seed guide's (UPDATE_PROCEDURES.md) "Test Before Production", "Drift Detection" and
//! "Replacing a Deployment" commands, as written (the binary instead of `docker run`), against a
//! local AWS: moto, or LocalStack with `S3P_EMULATOR=localstack` (`.ci/run` runs it on both; see
//! tests/it/support/emulator.rs).

use crate::support;

use support::{LocalAws, Workdir, block_on, bucket_names, live_stacks, site_config};

const REGION: &str = "us-west-1";

fn seed_config() -> String {
    site_config(
        "b001",
        REGION,
        "versioning: true\nlifecycle_policy: ml-optimized\ntags:\n  Purpose: ML Solutions Portfolio\n  Owner: data-science",
    )
}

fn run(server: &LocalAws, work: &Workdir, args: &[&str]) -> (i32, String, String) {
    let output = server.command(work.path()).args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn seed_guide_test_drift_and_replace_commands_work_as_written() {
    let server = LocalAws::start();
    let work = Workdir::new();
    work.write_config("your-config.yaml", &seed_config());
    work.write_config("edge-prod-b001-us-west-1-s3.yaml", &seed_config());

    // Test Before Production, as written: an isolated test copy. test-deploy removes it itself,
    // so the guide's "delete the test stack when done" finds nothing left.
    let test_deploy = [
        "--config",
        "your-config.yaml",
        "--action",
        "test-deploy",
        "--solution",
        "master-solution",
    ];
    let (code, stdout, stderr) = run(&server, &work, &test_deploy);
    // LocalStack does not apply the template's lifecycle rule nor BucketKeyEnabled (see
    // `LocalAws::known_gaps`): there, exactly the encryption and lifecycle checks fail, and so
    // test-deploy exits 1; every other check must pass on both emulators.
    let gaps = server.known_gaps();
    let expected_code = i32::from(!gaps.is_empty()); // 1: a check failed
    assert_eq!(code, expected_code, "{stdout}{stderr}");
    server.assert_findings_are_known_gaps(&stdout);
    for line in stdout.lines().map(str::trim) {
        if let Some(check) = line.strip_prefix("FAIL ") {
            assert!(
                gaps.iter()
                    .any(|gap| check.starts_with(&format!("{} ", gap.check))),
                "{line}\n{stdout}"
            );
        }
    }
    assert!(stdout.contains("PASS versioning"), "{stdout}");
    assert!(stdout.contains("Removed test deployment"), "{stdout}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(server.clients(REGION));
    assert!(
        block_on(live_stacks(&aws)).is_empty(),
        "test-deploy left a stack"
    );
    assert!(
        block_on(bucket_names(&aws)).is_empty(),
        "test-deploy left a bucket"
    );

    // With --keep the copy stays for inspection, and the command the tool prints removes it.
    let kept = [&test_deploy[..], &["--keep"]].concat();
    let (code, stdout, stderr) = run(&server, &work, &kept);
    assert_eq!(code, expected_code, "{stdout}{stderr}");
    let test_stack = stderr
        .split_whitespace()
        .find_map(|w| w.strip_prefix("stack="))
        .filter(|name| name.starts_with("edge-prod-b001-us-west-1-s3-t"))
        .unwrap_or_else(|| panic!("no test stack named:\n{stderr}"))
        .to_owned();
    assert_eq!(
        block_on(live_stacks(&aws)),
        std::slice::from_ref(&test_stack)
    );
    assert_eq!(
        block_on(bucket_names(&aws)).len(),
        1,
        "the kept copy's bucket"
    );
    let remove = stdout
        .lines()
        .skip_while(|line| !line.contains("Remove it with:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no removal command printed:\n{stdout}"))
        .trim()
        .to_owned();
    let words: Vec<&str> = remove.split_whitespace().collect();
    assert_eq!(words[0], "s3-provisioner", "{remove}");
    assert!(remove.contains("--test-id"), "{remove}");
    let (code, stdout, stderr) = run(&server, &work, &words[1..]);
    assert_eq!(code, 0, "`{remove}`: {stdout}{stderr}");
    assert!(
        block_on(live_stacks(&aws)).is_empty(),
        "`{remove}` left the stack"
    );
    assert!(
        block_on(bucket_names(&aws)).is_empty(),
        "`{remove}` left the bucket"
    );

    // Replacing a Deployment, with a deployment in place first.
    let deploy = [
        "--config",
        "edge-prod-b001-us-west-1-s3.yaml",
        "--action",
        "prep-master",
        "--solution",
        "master-solution",
        "--force",
    ];
    let (code, _, stderr) = run(&server, &work, &deploy);
    assert_eq!(code, 0, "{stderr}");

    // Drift Detection.
    let drift = [
        "--config",
        "edge-prod-b001-us-west-1-s3.yaml",
        "--action",
        "check-drift",
    ];
    let (code, stdout, stderr) = run(&server, &work, &drift);
    assert_drift_is_known_gaps(&server, code, &stdout, &stderr);

    let (code, stdout, stderr) = run(
        &server,
        &work,
        &[
            "--config",
            "edge-prod-b001-us-west-1-s3.yaml",
            "--action",
            "tear-down",
            "--force",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("is gone"), "{stdout}");
    let (code, _, stderr) = run(&server, &work, &deploy);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&server, &work, &drift);
    assert_drift_is_known_gaps(&server, code, &stdout, &stderr);

    // "Check for errors in logs": the successful runs logged none.
    let logs: Vec<String> = work
        .reports()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(logs.len() >= 6);
    for log in logs {
        for line in log.lines() {
            // On LocalStack, the known gaps' failed checks are test-deploy's one error.
            let known_gap_failure = !gaps.is_empty()
                && line.contains(&format!(
                    "ERROR test-deploy: {} check(s) of test deployment",
                    gaps.len()
                ));
            assert!(
                known_gap_failure || !line.to_lowercase().contains("error"),
                "{line}\n{log}"
            );
        }
    }
}

/// check-drift on a fresh deployment: in sync on moto; on LocalStack drift (exit 3) made of
/// exactly its known gaps (`LocalAws::known_gaps`), which the guide's config meets.
fn assert_drift_is_known_gaps(server: &LocalAws, code: i32, stdout: &str, stderr: &str) {
    if server.known_gaps().is_empty() {
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(stdout.contains("In sync:"), "{stdout}");
    } else {
        assert_eq!(code, 3, "{stdout}{stderr}");
        let checks: Vec<&str> = server.known_gaps().iter().map(|g| g.check).collect();
        assert!(
            stdout.contains(&format!("({})", checks.join(", "))),
            "{stdout}"
        );
    }
    server.assert_findings_are_known_gaps(stdout);
}
