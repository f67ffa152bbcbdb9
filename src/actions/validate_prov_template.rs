//! `validate-prov-template` (docs/actions.md): read the written template and check it is well
//! formed, secure, sane and generated from the current config. Every finding is reported at once;
//! any finding is exit 2 (nothing was changed), with the typed findings in the JSON result.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use super::{Ctx, Outcome, config_arg};
use crate::exit::{ExitStatus, UsageError};
use crate::output::Style;
use crate::template::MAX_TEMPLATE_BYTES;
use crate::template::check::{self, Expected, Finding, WHOLE_TEMPLATE};

/// The typed result of `validate-prov-template`.
#[derive(Debug, Serialize)]
pub struct ValidateTemplateResult {
    /// The file checked.
    pub path: PathBuf,
    /// No findings.
    pub valid: bool,
    /// The template was generated from another config or tool version.
    pub stale: bool,
    /// Every problem found (empty when valid).
    pub findings: Vec<Finding>,
    /// Logical IDs the file declares.
    pub resources: Vec<String>,
    /// The config hash recorded in the template, when readable.
    pub template_config_sha256: Option<String>,
    /// The current config's hash.
    pub config_sha256: String,
    /// The tool version that generated the template, when readable.
    pub template_tool_version: Option<String>,
}

/// Run the action.
pub fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<Outcome> {
    let path = ctx
        .options
        .dirs
        .templates
        .join(ctx.deployment.template_file_name());
    let regenerate = regenerate_command(ctx);
    let report = match read_template(&path, &regenerate)? {
        Ok(text) => check::check(
            &text,
            &Expected {
                config: ctx.config,
                deployment: ctx.deployment,
                regenerate: &regenerate,
            },
        ),
        Err(finding) => check::CheckReport {
            findings: vec![finding],
            metadata: None,
            stale: false,
            resources: Vec::new(),
        },
    };
    let result = ValidateTemplateResult {
        path,
        valid: report.findings.is_empty(),
        stale: report.stale,
        findings: report.findings,
        resources: report.resources,
        template_config_sha256: report.metadata.as_ref().map(|m| m.config_sha256.clone()),
        config_sha256: ctx.config.normalised_sha256(),
        template_tool_version: report.metadata.map(|m| m.tool_version),
    };
    if result.valid {
        let ok = ctx.out.paint(Style::Green, "valid");
        ctx.out.result(format!(
            "template {} is {ok}: {} resources, secure defaults in place, lifecycle sane, names and config hash ({}…) match",
            result.path.display(),
            result.resources.len(),
            result.config_sha256.get(..12).unwrap_or_default()
        ));
        return Outcome::success(&result);
    }
    for finding in &result.findings {
        ctx.out.error(finding);
    }
    let count = result.findings.len();
    let what = if result.stale {
        format!("is stale; regenerate it with: {regenerate}")
    } else {
        "must be fixed before it is used".to_owned()
    };
    ctx.out.result(format!(
        "template {} has {count} problem{} and {what}",
        result.path.display(),
        if count == 1 { "" } else { "s" }
    ));
    Outcome::new(ExitStatus::Usage, &result)
}

/// The command that (re)creates the template for this config and solution, as the user would
/// type it: a config inside the configs dir by its bare name, anything else by its path.
fn regenerate_command(ctx: &Ctx<'_>) -> String {
    format!(
        "s3-provisioner --config {} --action create-prov-template --solution {}",
        config_arg(ctx),
        ctx.deployment.solution
    )
}

/// The template text, or a finding when the file is not usable text. A missing file is a usage
/// error (exit 2) naming the command that creates it; other I/O errors are runtime failures.
fn read_template(path: &Path, regenerate: &str) -> anyhow::Result<Result<String, Finding>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(UsageError(format!(
                "template {} does not exist; create it with: {regenerate}",
                path.display()
            ))
            .into());
        }
        Err(error) => {
            return Err(error).with_context(|| format!("opening template {}", path.display()));
        }
    };
    let mut bytes = Vec::new();
    // Read at most one byte past the limit: enough to tell the file is too big.
    file.take(MAX_TEMPLATE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading template {}", path.display()))?;
    let finding = |problem: String| Finding {
        resource: WHOLE_TEMPLATE.to_owned(),
        property: String::new(),
        problem,
        fix: format!("regenerate the template: {regenerate}"),
    };
    if bytes.len() > MAX_TEMPLATE_BYTES {
        return Ok(Err(finding(format!(
            "the file is over {MAX_TEMPLATE_BYTES} bytes, more than CloudFormation accepts; it was not written by s3-provisioner"
        ))));
    }
    Ok(String::from_utf8(bytes).map_err(|error| {
        finding(format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Action;
    use crate::config::{LifecyclePreset, ValidConfig};
    use crate::exit::status_for_error;
    use crate::fixtures;

    const SOLUTION: &str = "master-solution";

    fn template_path(root: &Path, config: &ValidConfig) -> PathBuf {
        let deployment = crate::naming::shared_deployment(config).unwrap();
        root.join("templates").join(deployment.template_file_name())
    }

    /// Create the template for `config`, apply `edit` to its text, validate it against
    /// `check_with`.
    fn validate_edited(
        config: &ValidConfig,
        check_with: &ValidConfig,
        edit: impl FnOnce(String) -> String,
    ) -> (Outcome, String, String) {
        let root = tempfile::tempdir().unwrap();
        fixtures::run_local_action(Action::CreateProvTemplate, config, SOLUTION, root.path())
            .0
            .unwrap();
        let path = template_path(root.path(), config);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = edit(text.clone());
        std::fs::write(&path, edited).unwrap();
        let (outcome, captured) = fixtures::run_local_action(
            Action::ValidateProvTemplate,
            check_with,
            SOLUTION,
            root.path(),
        );
        (outcome.unwrap(), captured.stdout(), captured.stderr())
    }

    fn replace_once(text: &str, from: &str, to: &str) -> String {
        assert_eq!(text.matches(from).count(), 1, "{from:?} occurs once");
        text.replacen(from, to, 1)
    }

    #[test]
    fn a_fresh_template_is_valid() {
        let config = fixtures::vpc_site();
        let (outcome, stdout, stderr) = validate_edited(&config, &config, |t| t);
        assert_eq!(outcome.status, ExitStatus::Success, "{stderr}");
        assert!(stdout.contains("is valid: 5 resources"), "{stdout}");
        assert_eq!(outcome.result["valid"], true);
        assert_eq!(outcome.result["findings"], serde_json::json!([]));
    }

    #[test]
    fn missing_template_names_the_command_that_creates_it() {
        let root = tempfile::tempdir().unwrap();
        let config = fixtures::shared_site();
        let (outcome, _) = fixtures::run_local_action(
            Action::ValidateProvTemplate,
            &config,
            SOLUTION,
            root.path(),
        );
        let error = outcome.unwrap_err();
        assert_eq!(status_for_error(&error), ExitStatus::Usage);
        let message = format!("{error:#}");
        assert!(
            message.contains(
                "create it with: s3-provisioner --config configs/edge-prod-b001-us-west-1-s3.yaml --action create-prov-template --solution master-solution"
            ),
            "{message}"
        );
    }

    #[test]
    fn every_config_change_makes_it_stale() {
        let base = fixtures::shared_site();
        let changes: [fn(&mut ValidConfig); 6] = [
            |c| c.client.company_name = "Other Corp".into(),
            |c| c.client.account_id = "000000000001".into(),
            |c| c.s3.versioning = false,
            |c| c.s3.lifecycle_policy = LifecyclePreset::Compliance,
            |c| {
                c.s3.tags.insert("Owner".into(), "platform".into());
            },
            |c| c.s3.bucket_name_override = Some("edge-other-bucket".into()),
        ];
        for (index, change) in changes.into_iter().enumerate() {
            let mut edited_config = base.clone();
            change(&mut edited_config);
            let (outcome, stdout, stderr) = validate_edited(&base, &edited_config, |t| t);
            assert_eq!(outcome.status, ExitStatus::Usage, "change {index}");
            assert_eq!(outcome.result["stale"], true, "change {index}");
            assert!(
                stdout.contains("is stale; regenerate it with: s3-provisioner --config"),
                "{stdout}"
            );
            assert!(
                stderr.contains("Metadata.S3Provisioner.ConfigSha256: the template is stale"),
                "{stderr}"
            );
        }
    }

    #[test]
    fn removed_bucket_policy_is_reported() {
        let config = fixtures::shared_site();
        let (outcome, _, stderr) = validate_edited(&config, &config, |text| {
            let start = text.find("  BucketPolicy:\n").unwrap();
            let end = text.find("  BucketNameParameter:\n").unwrap();
            format!("{}{}", &text[..start], &text[end..])
        });
        assert_eq!(outcome.status, ExitStatus::Usage);
        assert!(
            stderr.contains("error: BucketPolicy: is missing"),
            "{stderr}"
        );
        assert_eq!(outcome.result["findings"][0]["resource"], "BucketPolicy");
    }

    #[test]
    fn block_public_acls_false_is_reported() {
        let config = fixtures::shared_site();
        let (outcome, _, stderr) = validate_edited(&config, &config, |text| {
            replace_once(&text, "BlockPublicAcls: true", "BlockPublicAcls: false")
        });
        assert_eq!(outcome.status, ExitStatus::Usage);
        assert!(
            stderr.contains("Bucket.PublicAccessBlockConfiguration.BlockPublicAcls: is false"),
            "{stderr}"
        );
        assert_eq!(
            outcome.result["findings"][0]["property"],
            "PublicAccessBlockConfiguration.BlockPublicAcls"
        );
    }

    #[test]
    fn removed_bucket_encryption_is_reported() {
        let config = fixtures::shared_site();
        let (outcome, _, stderr) = validate_edited(&config, &config, |text| {
            replace_once(
                &text,
                "      BucketEncryption:\n        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault:\n              SSEAlgorithm: AES256\n            BucketKeyEnabled: true\n",
                "",
            )
        });
        assert_eq!(outcome.status, ExitStatus::Usage);
        assert!(
            stderr.contains("Bucket.BucketEncryption: is missing"),
            "{stderr}"
        );
    }

    #[test]
    fn deletion_policy_delete_is_reported() {
        let config = fixtures::shared_site();
        let (outcome, _, stderr) = validate_edited(&config, &config, |text| {
            replace_once(&text, "DeletionPolicy: Retain", "DeletionPolicy: Delete")
        });
        assert_eq!(outcome.status, ExitStatus::Usage);
        assert!(
            stderr.contains("Bucket.DeletionPolicy: is \"Delete\", expected Retain"),
            "{stderr}"
        );
    }

    #[test]
    fn unreadable_content_is_a_finding() {
        let config = fixtures::shared_site();
        let (outcome, _, stderr) = validate_edited(&config, &config, |_| "\u{0}garbage: [".into());
        assert_eq!(outcome.status, ExitStatus::Usage);
        assert!(
            stderr.contains("(template): the template is not valid YAML"),
            "{stderr}"
        );
        let root = tempfile::tempdir().unwrap();
        let path = template_path(root.path(), &config);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, [0xff, 0xfe, b'a']).unwrap();
        let (outcome, _) = fixtures::run_local_action(
            Action::ValidateProvTemplate,
            &config,
            SOLUTION,
            root.path(),
        );
        let outcome = outcome.unwrap();
        assert_eq!(outcome.status, ExitStatus::Usage);
        assert!(
            outcome.result["findings"][0]["problem"]
                .as_str()
                .unwrap()
                .contains("not UTF-8")
        );
    }

    #[test]
    fn regenerate_command_uses_the_bare_name_inside_the_configs_dir() {
        let root = tempfile::tempdir().unwrap();
        let mut config = fixtures::shared_site();
        config.source = root.path().join("configs/edge-prod-b001-us-west-1-s3.yaml");
        let (outcome, _) = fixtures::run_local_action(
            Action::ValidateProvTemplate,
            &config,
            SOLUTION,
            root.path(),
        );
        let message = format!("{:#}", outcome.unwrap_err());
        assert!(
            message.contains("--config edge-prod-b001-us-west-1-s3.yaml --action"),
            "{message}"
        );
    }
}
