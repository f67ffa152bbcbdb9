//! Every generated template passes the pinned `cfn-lint` with zero findings (errors, warnings and
//! informational), for every lifecycle preset × versioning × pattern × VPC, a test deployment,
//! the largest template a valid config can produce and every example config.
//! cfn-lint runs once over all files, because its start-up dominates.
//!
//! cfn-lint comes from the project's `.venv` (`scripts/test` installs it), or from beside
//! `S3P_TEST_PYTHON` when that is set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use s3_provisioner::config::{LifecyclePreset, ValidConfig};
use s3_provisioner::naming::{self, Deployment};
use s3_provisioner::template;

/// Regions the combinations are spread over (cfn-lint checks each file in all of them).
const REGIONS: [&str; 4] = ["us-west-1", "eu-west-1", "us-east-1", "ap-southeast-2"];

/// CloudFormation's limit for a template passed inline (`TemplateBody`).
const INLINE_TEMPLATE_LIMIT: usize = 51_200;

/// A prod site config written as YAML and read through validation, like any config file. Every
/// text value is written double-quoted (JSON string syntax is a YAML double-quoted scalar).
fn config_with_tags(
    tenant: &str,
    region: &str,
    lifecycle: LifecyclePreset,
    versioning: bool,
    vpc: bool,
    tags: &[(String, String)],
) -> ValidConfig {
    use std::fmt::Write as _;
    let quote = |text: &str| serde_json::to_string(text).unwrap();
    let mut yaml = format!(
        "client:\n  company_name: Edge Corp\n  company_prefix: edge\n  account_id: \"123456789012\"\n  tenant_id: {}\n\
         environment:\n  env: prod\n  region: {region}\n\
         s3:\n  versioning: {versioning}\n  lifecycle_policy: {}\n",
        quote(tenant),
        lifecycle.as_str()
    );
    if vpc {
        yaml += "  vpc_id: vpc-0a1b2c3d4e5f67890\n  route_table_ids: \"rtb-0123456789abcdef0,rtb-0fedcba9\"\n";
    }
    yaml += "  tags:\n";
    for (key, value) in tags {
        let _ = writeln!(yaml, "    {}: {}", quote(key), quote(value));
    }
    s3_provisioner::config::from_bytes(Path::new("configs/test.yaml"), yaml.as_bytes()).unwrap()
}

/// A prod site config with the two example tags.
fn config(
    tenant: &str,
    region: &str,
    lifecycle: LifecyclePreset,
    versioning: bool,
    vpc: bool,
) -> ValidConfig {
    let tags = [
        ("Owner", "data-science"),
        ("Purpose", "ML Solutions Portfolio"),
    ]
    .map(|(key, value)| (key.to_owned(), value.to_owned()));
    config_with_tags(tenant, region, lifecycle, versioning, vpc, &tags)
}

/// 40 user tags (the config maximum) with 128-character keys and 256-character values, several
/// of them strings YAML 1.1 would misread if written unquoted (all within the characters a tag
/// value may hold: `1:20` is a base-60 number to YAML 1.1, `a: b` a mapping).
fn max_tags() -> Vec<(String, String)> {
    let tricky = [
        "yes",
        "no",
        "on",
        "off",
        "2024-01-01",
        "0755",
        "1_000",
        "null",
        ".inf",
        "",
        "a: b",
        "1:20",
    ];
    (0..40)
        .map(|index| {
            let key = format!("tag-{index:02}-{}", "k".repeat(121));
            let value = match tricky.get(index) {
                Some(text) => (*text).to_owned(),
                None => format!("value {index:02} {}", "v/=+-@.:_".repeat(28))
                    .chars()
                    .take(256)
                    .collect(),
            };
            (key, value)
        })
        .collect()
}

/// The largest template: VPC, compliance, versioning, 40 maximal tags, dedicated pattern.
fn largest() -> (ValidConfig, Deployment) {
    let config = config_with_tags(
        "b999",
        "ap-southeast-2",
        LifecyclePreset::Compliance,
        true,
        true,
        &max_tags(),
    );
    let deployment = naming::dedicated_deployment(&config, "recommendation-engine").unwrap();
    (config, deployment)
}

/// Every combination to lint: (file stem, config, deployment).
fn combinations() -> Vec<(String, ValidConfig, Deployment)> {
    let mut all = Vec::new();
    let mut region = REGIONS.iter().cycle();
    for preset in LifecyclePreset::ALL {
        for versioning in [true, false] {
            for vpc in [false, true] {
                for dedicated in [false, true] {
                    let config = config("b001", region.next().unwrap(), preset, versioning, vpc);
                    let deployment = if dedicated {
                        naming::dedicated_deployment(&config, "recommendation-engine").unwrap()
                    } else {
                        naming::shared_deployment(&config).unwrap()
                    };
                    let name = format!(
                        "{}-{}-{}-{}",
                        preset.as_str(),
                        if versioning {
                            "versioned"
                        } else {
                            "unversioned"
                        },
                        if vpc { "vpc" } else { "novpc" },
                        deployment.pattern.as_str()
                    );
                    all.push((name, config, deployment));
                }
            }
        }
    }
    let config = config(
        "b001",
        "us-west-1",
        LifecyclePreset::MlOptimized,
        true,
        true,
    );
    let shared = naming::shared_deployment(&config).unwrap();
    let test = naming::test_deployment(&shared, "t0a1b2c").unwrap();
    all.push(("test-deployment".to_owned(), config, test));
    let (config, deployment) = largest();
    all.push(("largest".to_owned(), config, deployment));
    all
}

/// The example configs of `configs/` (the dedicated-bucket site with its solution).
fn examples() -> Vec<(String, ValidConfig, Deployment)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let config = s3_provisioner::config::load(&file).unwrap();
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let solution = if name.contains("recommendation-engine") {
                "recommendation-engine"
            } else {
                naming::MASTER_SOLUTION
            };
            let deployment = naming::deployment_for_solution(&config, solution).unwrap();
            (format!("example-{name}"), config, deployment)
        })
        .collect()
}

/// The pinned cfn-lint, or a panic saying how to install it.
fn cfn_lint() -> PathBuf {
    let candidate = match std::env::var_os("S3P_TEST_PYTHON") {
        Some(python) => Path::new(&python)
            .parent()
            .map(|bin| bin.join("cfn-lint"))
            .unwrap_or_default(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/cfn-lint"),
    };
    assert!(
        candidate.is_file(),
        "cfn-lint not found at {}: run the tests with scripts/test, which installs the pinned Python tools into .venv",
        candidate.display()
    );
    candidate
}

/// The Python interpreter beside cfn-lint (it has PyYAML, a YAML 1.1 reader like CloudFormation's).
fn python() -> PathBuf {
    cfn_lint().with_file_name("python")
}

#[test]
fn every_combination_passes_cfn_lint_with_zero_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let examples = examples();
    assert!(examples.len() >= 5, "the example configs of configs/");
    let expected_files = 34 + examples.len();
    for (name, config, deployment) in combinations().into_iter().chain(examples) {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, template::render(&config, &deployment).unwrap()).unwrap();
        files.push(path);
    }
    // 32 combinations, a test deployment, the largest template and every example config.
    assert_eq!(files.len(), expected_files);
    let output = Command::new(cfn_lint())
        .args([
            "--format",
            "parseable",
            "--include-checks",
            "I",
            "--regions",
        ])
        .args(REGIONS)
        .arg("--")
        .args(&files)
        .output()
        .unwrap();
    let findings = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && findings.trim().is_empty(),
        "cfn-lint exit {:?}, findings:\n{findings}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn largest_template_fits_inline_and_reads_back_as_strings_under_yaml_1_1() {
    let (config, deployment) = largest();
    let text = template::render(&config, &deployment).unwrap();
    assert!(
        text.len() < INLINE_TEMPLATE_LIMIT,
        "largest template is {} bytes, over CloudFormation's inline limit",
        text.len()
    );
    // PyYAML reads YAML 1.1, as CloudFormation does: every tag value must come back as the string
    // the config holds (not a boolean, date, number or null).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("largest.yaml");
    std::fs::write(&path, &text).unwrap();
    let script = "import json, sys, yaml\n\
                  doc = yaml.safe_load(open(sys.argv[1]))\n\
                  tags = doc['Resources']['Bucket']['Properties']['Tags']\n\
                  print(json.dumps({t['Key']: t['Value'] for t in tags}))\n";
    let output = Command::new(python())
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let expected: BTreeMap<String, serde_json::Value> = template::stack_tags(&config, &deployment)
        .into_iter()
        .map(|(key, value)| (key, serde_json::Value::String(value)))
        .collect();
    assert_eq!(read, expected);
}
