//! `validate-config` (docs/actions.md): the config already loaded and validated (`run::run_one`
//! does that before any action, exit 2 on problems); this action shows what it means — every
//! derived name, the bucket settings in words, the tags the bucket will carry, and the warnings.
//! Local: no AWS, nothing written except the run's reports.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{Ctx, Outcome};
use crate::config::lifecycle::PresetRule;
use crate::config::{ValidConfig, Warning};
use crate::naming::{self, Deployment};
use crate::output::Style;

/// The `result` of the JSON document: the same facts as the text output.
#[derive(Debug, Serialize)]
pub struct ValidateConfigResult {
    pub valid: bool,
    pub deployment: String,
    pub pattern: naming::Pattern,
    pub solution: String,
    pub bucket: String,
    pub bucket_arn: String,
    /// True when `s3.bucket_name_override` replaced the derived bucket name.
    pub bucket_name_overridden: bool,
    pub stack: String,
    pub template_file: String,
    pub template_key: String,
    pub policy_file: String,
    pub ssm_parameters: SsmParameters,
    pub account_id: String,
    pub region: String,
    pub env: &'static str,
    pub versioning: bool,
    pub lifecycle: LifecycleSummary,
    pub vpc_endpoint: Option<VpcEndpointSummary>,
    /// Every tag the bucket and stack will carry: user tags plus the tool's own, sorted by key.
    pub tags: BTreeMap<String, String>,
    /// Shown in the text output; the JSON document carries them once, at its top level.
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// SSM parameter paths the template creates.
#[derive(Debug, Serialize)]
pub struct SsmParameters {
    pub bucket_name: String,
    pub bucket_arn: String,
}

/// The lifecycle preset, in words and as data.
#[derive(Debug, Serialize)]
pub struct LifecycleSummary {
    pub preset: &'static str,
    pub description: String,
    /// The rule (none for the `none` preset); noncurrent rules apply only with versioning on.
    pub rule: Option<PresetRule>,
}

/// The gateway VPC endpoint the template creates.
#[derive(Debug, Serialize)]
pub struct VpcEndpointSummary {
    pub vpc_id: String,
    pub service_name: String,
    pub route_table_ids: Vec<String>,
}

/// Run the action.
pub fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<Outcome> {
    let result = summarise(
        ctx.config,
        ctx.deployment,
        &ctx.options.dirs.templates,
        &ctx.options.dirs.policies,
    );
    for line in render_text(&result, &ctx.config.source) {
        let line = if line.starts_with("valid") {
            ctx.out.paint(Style::Green, line)
        } else {
            line
        };
        ctx.out.result(line);
    }
    Outcome::success(&result)
}

/// Every fact the action reports, from the config and the chosen deployment.
pub fn summarise(
    config: &ValidConfig,
    deployment: &Deployment,
    templates_dir: &Path,
    policies_dir: &Path,
) -> ValidateConfigResult {
    // The same tags the template puts on the bucket and the stack.
    let tags = crate::template::stack_tags(config, deployment)
        .into_iter()
        .collect();
    let preset = config.s3.lifecycle_policy;
    ValidateConfigResult {
        valid: true,
        deployment: deployment.name.clone(),
        pattern: deployment.pattern,
        solution: deployment.solution.clone(),
        bucket: deployment.bucket_name.clone(),
        bucket_arn: deployment.bucket_arn(),
        bucket_name_overridden: config.s3.bucket_name_override.is_some(),
        stack: deployment.stack_name.clone(),
        template_file: templates_dir
            .join(deployment.template_file_name())
            .display()
            .to_string(),
        template_key: deployment.template_key(),
        policy_file: policies_dir
            .join(naming::policy_file_name(config))
            .display()
            .to_string(),
        ssm_parameters: SsmParameters {
            bucket_name: deployment.ssm_bucket_name_parameter(),
            bucket_arn: deployment.ssm_bucket_arn_parameter(),
        },
        account_id: config.client.account_id.clone(),
        region: config.environment.region.clone(),
        env: config.environment.env.as_str(),
        versioning: config.s3.versioning,
        lifecycle: LifecycleSummary {
            preset: preset.as_str(),
            description: preset.describe(config.s3.versioning),
            rule: preset.rule(),
        },
        vpc_endpoint: config.s3.vpc.as_ref().map(|vpc| VpcEndpointSummary {
            vpc_id: vpc.vpc_id.clone(),
            service_name: format!("com.amazonaws.{}.s3", config.environment.region),
            route_table_ids: vpc.route_table_ids.clone(),
        }),
        tags,
        warnings: config.warnings.clone(),
    }
}

/// The text output: one `label  value` line per fact, continuation lines indented.
pub fn render_text(result: &ValidateConfigResult, source: &Path) -> Vec<String> {
    let mut rows: Vec<(&str, String)> = Vec::new();
    let bucket = if result.bucket_name_overridden {
        format!("{} (from s3.bucket_name_override)", result.bucket)
    } else {
        result.bucket.clone()
    };
    rows.push((
        "deployment",
        format!(
            "{} ({}, solution {})",
            result.deployment,
            result.pattern.as_str(),
            result.solution
        ),
    ));
    rows.push(("bucket", bucket));
    rows.push(("stack", result.stack.clone()));
    rows.push(("template file", result.template_file.clone()));
    rows.push(("policy file", result.policy_file.clone()));
    rows.push(("ssm parameters", result.ssm_parameters.bucket_name.clone()));
    rows.push(("", result.ssm_parameters.bucket_arn.clone()));
    rows.push((
        "account / region",
        format!("{} / {} ({})", result.account_id, result.region, result.env),
    ));
    rows.push((
        "versioning",
        if result.versioning {
            "enabled"
        } else {
            "off (Suspended)"
        }
        .to_owned(),
    ));
    rows.push(("lifecycle", result.lifecycle.description.clone()));
    match &result.vpc_endpoint {
        None => rows.push(("vpc endpoint", "none".to_owned())),
        Some(vpc) => {
            rows.push((
                "vpc endpoint",
                format!("gateway {} in {}", vpc.service_name, vpc.vpc_id),
            ));
            rows.push((
                "",
                format!("route tables {}", vpc.route_table_ids.join(", ")),
            ));
        }
    }
    for (index, (key, value)) in result.tags.iter().enumerate() {
        rows.push((
            if index == 0 { "tags" } else { "" },
            format!("{key} = {value}"),
        ));
    }
    if result.warnings.is_empty() {
        rows.push(("warnings", "none".to_owned()));
    }
    for (index, warning) in result.warnings.iter().enumerate() {
        rows.push((
            if index == 0 { "warnings" } else { "" },
            format!("{}: {}", warning.key_path, warning.message),
        ));
    }
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let mut lines = vec![format!("valid: {}", source.display())];
    lines.extend(
        rows.into_iter()
            .map(|(label, value)| format!("  {label:<width$}  {value}")),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{VpcSettings, example};

    #[test]
    fn vpc_endpoint_tool_tags_and_warnings_are_shown() {
        let mut config = example();
        config.s3.vpc = Some(VpcSettings {
            vpc_id: "vpc-0a1b2c3d".into(),
            route_table_ids: vec!["rtb-0a1b2c3d".into(), "rtb-1a2b3c4d".into()],
        });
        config.warnings.push(Warning {
            key_path: "s3.versioning".into(),
            message: "careful".into(),
        });
        let deployment = naming::dedicated_deployment(&config, "churn").unwrap();
        let result = summarise(&config, &deployment, Path::new("t"), Path::new("p"));
        assert_eq!(result.tags["s3-provisioner:deployment"], deployment.name);
        assert_eq!(result.tags["s3-provisioner:managed-by"], "s3-provisioner");
        assert_eq!(result.tags["Owner"], "data-science");
        assert_eq!(
            result.template_file,
            "t/edge-prod-b001-us-west-1-s3-churn-template.yaml"
        );
        assert_eq!(
            result.policy_file,
            "p/edge-prod-b001-us-west-1-s3-iam-policy.json"
        );
        let lines = render_text(&result, Path::new("site.yaml"));
        assert_eq!(lines[0], "valid: site.yaml");
        let text = lines.join("\n");
        assert!(text.contains("  vpc endpoint      gateway com.amazonaws.us-west-1.s3 in vpc-0a1b2c3d\n                    route tables rtb-0a1b2c3d, rtb-1a2b3c4d\n"), "{text}");
        assert!(
            text.ends_with("  warnings          s3.versioning: careful"),
            "{text}"
        );
        // The JSON result carries warnings once, at the document's top level.
        let json = serde_json::to_value(&result).unwrap();
        assert!(json.get("warnings").is_none());
        assert_eq!(json["vpc_endpoint"]["route_table_ids"][1], "rtb-1a2b3c4d");
    }
}
