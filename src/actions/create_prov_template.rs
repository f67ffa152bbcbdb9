//! `create-prov-template` (docs/actions.md): generate the deployment's CloudFormation template and
//! write it atomically to `{templates_dir}/{deployment}-template.yaml`.

use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use super::{Ctx, Outcome};
use crate::fsutil;
use crate::template::{self, Summary};

/// The typed result of `create-prov-template`.
#[derive(Debug, Serialize)]
pub struct CreateTemplateResult {
    /// Where the template was written.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: usize,
    /// Whether the file's content changed (false when an identical file was already there).
    pub changed: bool,
    /// sha256 of the normalised config, as recorded in the template's metadata.
    pub config_sha256: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// Run the action.
pub fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<Outcome> {
    let built = template::build(ctx.config, ctx.deployment);
    let text = template::render_template(&built)?;
    let path = ctx
        .options
        .dirs
        .templates
        .join(ctx.deployment.template_file_name());
    // Reading first keeps an identical file untouched (no new mtime) and tells the user so.
    let changed = std::fs::read(&path).map_or(true, |existing| existing != text.as_bytes());
    if changed {
        fsutil::write_atomic(&path, text.as_bytes()).with_context(|| {
            format!(
                "writing the template to {} (check that --templates-dir is writable)",
                path.display()
            )
        })?;
    }
    let summary = Summary::of(ctx.config, &built);
    ctx.out.result(format!(
        "{} template {}",
        if changed { "wrote" } else { "unchanged:" },
        ctx.out.paint(crate::output::Style::Bold, path.display())
    ));
    ctx.out.result(format!(
        "{} resources ({}), lifecycle {}, versioning {}, {} tags, {} bytes",
        summary.resources.len(),
        summary.resources.join(", "),
        summary.lifecycle,
        summary.versioning,
        summary.tags,
        text.len()
    ));
    ctx.out.debug(
        "template written",
        &[
            ("path", &path.display()),
            ("deployment", &ctx.deployment.name),
            ("changed", &changed),
        ],
    );
    Outcome::success(&CreateTemplateResult {
        path,
        bytes: text.len(),
        changed,
        config_sha256: built.metadata.s3_provisioner.config_sha256.clone(),
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Action;
    use crate::exit::ExitStatus;
    use crate::{fixtures, naming};

    #[test]
    fn writes_the_template_and_a_summary() {
        let root = tempfile::tempdir().unwrap();
        let config = fixtures::vpc_site();
        let (outcome, captured) = fixtures::run_local_action(
            Action::CreateProvTemplate,
            &config,
            "master-solution",
            root.path(),
        );
        let outcome = outcome.unwrap();
        assert_eq!(outcome.status, ExitStatus::Success);
        let deployment = naming::shared_deployment(&config).unwrap();
        let path = root
            .path()
            .join("templates/edge-prod-b002-eu-west-1-s3-template.yaml");
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, template::render(&config, &deployment).unwrap());
        let stdout = captured.stdout();
        assert!(
            stdout.contains(&format!("wrote template {}", path.display())),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "5 resources (Bucket, BucketPolicy, VpcEndpoint, BucketNameParameter, BucketArnParameter), lifecycle ml-optimized, versioning Enabled, 4 tags, {} bytes",
                written.len()
            )),
            "{stdout}"
        );
        assert_eq!(outcome.result["bytes"], written.len());
        assert_eq!(outcome.result["changed"], true);
        assert_eq!(outcome.result["lifecycle"], "ml-optimized");
        assert_eq!(outcome.result["vpc_endpoint"], true);
        assert_eq!(outcome.result["config_sha256"], config.normalised_sha256());
    }

    #[test]
    fn running_twice_gives_identical_bytes() {
        let root = tempfile::tempdir().unwrap();
        let config = fixtures::dedicated_site();
        let path = root
            .path()
            .join("templates/edge-prod-b001-us-west-1-s3-recommendation-engine-template.yaml");
        let (first, _) = fixtures::run_local_action(
            Action::CreateProvTemplate,
            &config,
            "recommendation-engine",
            root.path(),
        );
        assert_eq!(first.unwrap().result["changed"], true);
        let first_bytes = std::fs::read(&path).unwrap();
        // Remove the file so the second run really writes it again.
        std::fs::remove_file(&path).unwrap();
        let (second, _) = fixtures::run_local_action(
            Action::CreateProvTemplate,
            &config,
            "recommendation-engine",
            root.path(),
        );
        assert_eq!(second.unwrap().result["changed"], true);
        assert_eq!(std::fs::read(&path).unwrap(), first_bytes);
        let (third, captured) = fixtures::run_local_action(
            Action::CreateProvTemplate,
            &config,
            "recommendation-engine",
            root.path(),
        );
        assert_eq!(third.unwrap().result["changed"], false);
        assert!(captured.stdout().starts_with("unchanged: template "));
        assert_eq!(std::fs::read(&path).unwrap(), first_bytes);
    }

    #[test]
    fn unwritable_templates_dir_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        // A file where the templates directory should be.
        std::fs::write(root.path().join("templates"), b"not a dir").unwrap();
        let (outcome, _) = fixtures::run_local_action(
            Action::CreateProvTemplate,
            &fixtures::shared_site(),
            "master-solution",
            root.path(),
        );
        let message = format!("{:#}", outcome.unwrap_err());
        assert!(message.contains("--templates-dir"), "{message}");
    }
}
