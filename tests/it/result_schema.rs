//! `docs/result.schema.json` against real result documents of the binary: `--output json` of
//! `validate-config` for every example config, of an invalid config, of a fleet run, of an AWS
//! action that fails (the endpoint is a closed port), and every `.json` report those runs wrote.
//! The schema is checked by the pinned Python `jsonschema` (draft 2020-12) from the `.venv`.

use std::path::Path;

use serde_json::{Value, json};

use crate::support;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Schema errors per document, in one Python run.
fn schema_errors(documents: &[Value]) -> Vec<Vec<String>> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("docs/result.schema.json")).unwrap(),
    )
    .unwrap();
    support::schema::errors(&schema, documents)
}

/// `--output json` of one run in `work`, with its exit code.
fn run_json(work: &Path, args: &[&str]) -> (Value, i32) {
    let output = assert_cmd::Command::cargo_bin("s3-provisioner")
        .unwrap()
        .current_dir(work)
        .args(args)
        .args(["--output", "json"])
        .env_remove("S3P_CONFIGS_DIR")
        .env_remove("S3P_REPORTS_DIR")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{args:?}: stdout is one JSON document ({e}): {output:?}");
    });
    (document, output.status.code().unwrap())
}

#[test]
fn real_result_documents_match_the_schema() {
    let work = tempfile::tempdir().unwrap();
    let configs = work.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(repo().join("configs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, configs.join(path.file_name().unwrap())).unwrap();
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    names.sort();
    std::fs::copy(
        repo().join("tests/fixtures/invalid/region-unknown.yaml"),
        configs.join("broken.yaml"),
    )
    .unwrap();

    let mut documents = Vec::new();
    for name in &names {
        let (document, code) = run_json(
            work.path(),
            &["--config", name, "--action", "validate-config"],
        );
        assert_eq!(code, 0);
        documents.push(document);
    }
    let (invalid, code) = run_json(
        work.path(),
        &["--config", "broken.yaml", "--action", "validate-config"],
    );
    assert_eq!((code, &invalid["status"]), (2, &json!("usage")));
    assert!(!invalid["error"]["problems"].as_array().unwrap().is_empty());
    documents.push(invalid);
    let (failed, code) = run_json(
        work.path(),
        &[
            "--config",
            "edge-prod-b001-us-west-1-s3.yaml",
            "--action",
            "check-drift",
        ],
    );
    assert_eq!((code, &failed["status"]), (1, &json!("failure")));
    documents.push(failed);
    let (fleet, code) = run_json(
        work.path(),
        &["--config", "*.yaml", "--action", "validate-config"],
    );
    assert_eq!(code, 2, "the broken config makes the fleet exit 2");
    assert_eq!(fleet["runs"].as_array().unwrap().len(), names.len() + 1);
    assert_eq!(fleet["format_version"], json!(1));
    documents.push(fleet);

    let mut reports = 0;
    for entry in std::fs::read_dir(work.path().join("reports")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            documents.push(serde_json::from_str(&text).unwrap());
            reports += 1;
        }
    }
    // One report per run: the single runs and each run of the fleet.
    assert_eq!(reports, 2 * names.len() + 3);

    for document in &documents {
        let runs = document["runs"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![document.clone()]);
        for run in runs {
            assert_eq!(
                run["format_version"],
                json!(s3_provisioner::RESULT_FORMAT_VERSION)
            );
        }
    }
    let verdicts = schema_errors(&documents);
    for (document, errors) in documents.iter().zip(&verdicts) {
        assert!(
            errors.is_empty(),
            "{errors:#?} in\n{}",
            serde_json::to_string_pretty(document).unwrap()
        );
    }
}

#[test]
fn the_schema_rejects_documents_that_break_it() {
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("configs")).unwrap();
    std::fs::copy(
        repo().join("configs/edge-prod-b001-us-west-1-s3.yaml"),
        work.path().join("configs/site.yaml"),
    )
    .unwrap();
    let (good, _) = run_json(
        work.path(),
        &["--config", "site.yaml", "--action", "validate-config"],
    );
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut document = good.clone();
        change(&mut document);
        document
    };
    let documents = [
        good.clone(),
        broken(&|d| d["format_version"] = json!(2)),
        broken(&|d| d["exit_code"] = json!(3)),
        broken(&|d| d["status"] = json!("ok")),
        broken(&|d| d["surprise"] = json!(true)),
        broken(&|d| d["error"] = json!({"message": "x", "problems": []})),
        broken(&|d| d["result"]["valid"] = json!(false)),
        broken(&|d| {
            d.as_object_mut().unwrap().remove("warnings");
        }),
        json!({"runs": [good.clone()], "exit_code": 0}),
    ];
    let verdicts = schema_errors(&documents);
    assert!(verdicts[0].is_empty(), "{:?}", verdicts[0]);
    for (index, errors) in verdicts.iter().enumerate().skip(1) {
        assert!(!errors.is_empty(), "document {index} is rejected");
    }
}
