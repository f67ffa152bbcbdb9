//! Shell completions and the man page, generated from the clap definition: they work without
//! `--config`/`--action` and without AWS, bash really completes the twelve actions, and `man -l`
//! really renders the page (man-db and groff; `scripts/test` installs them when missing).

use std::path::Path;
use std::process::Command;

use crate::support::local::ALL_ACTIONS;

/// The binary with nothing configured, in an empty folder: no configs, and any AWS call would
/// hit a closed port.
fn provisioner(cwd: &Path, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("s3-provisioner")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

/// Generate the bash script, then let bash complete `line` (the word under the cursor is the
/// last one, `""` for a fresh word). Returns the candidates bash offers, sorted.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let output = provisioner(dir.path(), &["--completions", "bash"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let script = dir.path().join("s3-provisioner.bash");
    std::fs::write(&script, &output.stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    // The function name comes from `complete -p`, as bash itself would look it up.
    let driver = format!(
        r#"set -euo pipefail
source "$1"
spec=$(complete -p s3-provisioner)
function=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$spec")
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$function" s3-provisioner "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" ")
    );
    let run = Command::new("bash")
        .arg("-c")
        .arg(driver)
        .arg("bash")
        .arg(&script)
        .output()
        .expect("bash runs");
    assert!(
        run.status.success(),
        "bash completion failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut offered: Vec<String> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    offered.sort();
    offered
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|&n| n.to_owned()).collect();
    names.sort();
    names
}

#[test]
fn bash_offers_the_twelve_actions_after_action() {
    assert_eq!(
        bash_complete(&["s3-provisioner", "--action", ""]),
        sorted(ALL_ACTIONS)
    );
    assert_eq!(
        bash_complete(&[
            "s3-provisioner",
            "--config",
            "a.yaml",
            "--action",
            "create-"
        ]),
        sorted(&["create-bucket", "create-policy", "create-prov-template"])
    );
}

#[test]
fn bash_offers_the_options_and_the_output_formats() {
    let options = bash_complete(&["s3-provisioner", "--"]);
    for option in [
        "--config",
        "--action",
        "--force",
        "--completions",
        "--man-page",
    ] {
        assert!(
            options.contains(&option.to_owned()),
            "{option} in {options:?}"
        );
    }
    assert_eq!(
        bash_complete(&["s3-provisioner", "--output", ""]),
        sorted(&["json", "text"])
    );
}

#[test]
fn every_shell_gets_a_script_without_config_or_aws() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = provisioner(dir.path(), &["--completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}: {output:?}");
        let script = String::from_utf8_lossy(&output.stdout);
        for option in ["config", "action", "solution", "force", "completions"] {
            // fish writes `-l config`, the others `--config`.
            let offered = script.contains(&format!("--{option}"))
                || script.contains(&format!("-l {option} "));
            assert!(offered, "{shell} script offers --{option}");
        }
        // clap_complete's PowerShell and Elvish scripts complete option names only, not values.
        if matches!(shell, "bash" | "zsh" | "fish") {
            for action in ALL_ACTIONS {
                assert!(script.contains(action), "{shell} script offers {action}");
            }
        }
        assert!(output.stderr.is_empty(), "{shell}: {output:?}");
    }
    // Nothing was read or written: no reports folder appears.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bash_script_is_valid_bash() {
    let dir = tempfile::tempdir().unwrap();
    let output = provisioner(dir.path(), &["--completions", "bash"]);
    let script = dir.path().join("completion.bash");
    std::fs::write(&script, &output.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
}

#[test]
fn generators_stand_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = provisioner(
        dir.path(),
        &["--completions", "bash", "--action", "validate-config"],
    );
    assert_eq!(mixed.status.code(), Some(2), "{mixed:?}");
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("cannot be used with"));
    let unknown = provisioner(dir.path(), &["--completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
    // The required options are still required for a run.
    let run = provisioner(dir.path(), &["--action", "validate-config"]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(String::from_utf8_lossy(&run.stderr).contains("--config"));
}

#[test]
fn man_renders_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let output = provisioner(dir.path(), &["--man-page"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let page = dir.path().join("s3-provisioner.1");
    std::fs::write(&page, &output.stdout).unwrap();
    // `--warnings` makes groff report every formatting problem on stderr.
    let man = Command::new("man")
        .arg("--warnings")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("man (man-db) is installed; scripts/test installs it when missing");
    let stderr = String::from_utf8_lossy(&man.stderr);
    assert!(man.status.success(), "man -l failed: {stderr}");
    assert!(stderr.trim().is_empty(), "man/groff warnings: {stderr}");
    // Rendered text, not roff source: no requests left, sections and values as a reader sees them.
    let text = String::from_utf8_lossy(&man.stdout).replace('\u{2010}', "-");
    assert!(!text.contains(".SH"), "{text}");
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT"] {
        assert!(
            text.lines().any(|l| l == section),
            "section {section} in\n{text}"
        );
    }
    for action in ALL_ACTIONS {
        assert!(text.contains(action), "the page lists {action}");
    }
    for needle in [
        "--config <FILE>",
        "--completions <SHELL>",
        "S3P_CONFIGS_DIR",
        "130",
        env!("CARGO_PKG_VERSION"),
    ] {
        assert!(text.contains(needle), "the page shows {needle}");
    }
}
