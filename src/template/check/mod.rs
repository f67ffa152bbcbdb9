//! The `validate-prov-template` rules: read a written template back and check that it is well
//! formed, secure, sane and made for this config and deployment.
//!
//! Every problem is collected as a [`Finding`] (resource, property, problem, fix) so the user sees
//! all of them at once. The checks read a `serde_yaml::Value` (short-form tags such as `!Ref` are
//! turned into long form first), because the file may have been edited by hand into any shape;
//! nothing here panics on a strange template.
//!
//! Order: parse → required resources, properties and secure defaults → lifecycle sanity → names →
//! staleness (metadata hash and tool version). When all of that passes, the file is compared with
//! what the tool generates now, so a hand edit that none of the specific rules cover (a changed
//! tag, an extra statement) is still reported: deploying actions always deploy the generated
//! template, never the file, so an edit in the file would be silently ignored.

mod bucket;
mod others;

use std::fmt;

use serde::Serialize;
use serde_yaml::Value;

use super::yaml;
use super::{
    BUCKET, BUCKET_ARN_PARAMETER, BUCKET_NAME_PARAMETER, BUCKET_POLICY, FORMAT_VERSION,
    TemplateMetadata, VPC_ENDPOINT,
};
use crate::config::ValidConfig;
use crate::naming::Deployment;

/// Resource name used for findings about the template as a whole.
pub const WHOLE_TEMPLATE: &str = "(template)";

/// One problem in a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Logical ID of the resource (or `Metadata`, `Outputs`, [`WHOLE_TEMPLATE`]).
    pub resource: String,
    /// Property path inside the resource, e.g. `PublicAccessBlockConfiguration.BlockPublicAcls`
    /// (empty when the finding concerns the whole resource).
    pub property: String,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.property.is_empty() {
            write!(f, "{}: {}; fix: {}", self.resource, self.problem, self.fix)
        } else {
            write!(
                f,
                "{}.{}: {}; fix: {}",
                self.resource, self.property, self.problem, self.fix
            )
        }
    }
}

/// The outcome of checking one template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Every problem found; empty when the template is valid.
    pub findings: Vec<Finding>,
    /// `Metadata.S3Provisioner` as read from the file, when it could be read.
    pub metadata: Option<TemplateMetadata>,
    /// The template was generated from another config or by another tool version.
    pub stale: bool,
    /// Logical IDs of the resources the file declares.
    pub resources: Vec<String>,
}

/// What the template is checked against.
pub struct Expected<'a> {
    pub config: &'a ValidConfig,
    pub deployment: &'a Deployment,
    /// The command that regenerates the file, quoted in fixes.
    pub regenerate: &'a str,
}

/// Collects findings.
struct Findings<'a> {
    list: Vec<Finding>,
    /// The command that regenerates the template.
    command: &'a str,
}

impl Findings<'_> {
    fn add(
        &mut self,
        resource: &str,
        property: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.list.push(Finding {
            resource: resource.to_owned(),
            property: property.to_owned(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }

    /// A finding whose fix is to regenerate the template.
    fn regenerate(&mut self, resource: &str, property: &str, problem: impl Into<String>) {
        let fix = format!("regenerate the template: {}", self.command);
        self.add(resource, property, problem, fix);
    }
}

/// Check template `text` against `expected`.
pub fn check(text: &str, expected: &Expected<'_>) -> CheckReport {
    let mut findings = Findings {
        list: Vec::new(),
        command: expected.regenerate,
    };
    let document = match yaml::parse(text) {
        Ok(document) => document,
        Err(error) => {
            findings.regenerate(WHOLE_TEMPLATE, "", format!("{error:#}"));
            return CheckReport {
                findings: findings.list,
                metadata: None,
                stale: false,
                resources: Vec::new(),
            };
        }
    };
    let version = document.get("AWSTemplateFormatVersion");
    if version.and_then(Value::as_str) != Some(FORMAT_VERSION) {
        findings.regenerate(
            WHOLE_TEMPLATE,
            "AWSTemplateFormatVersion",
            format!("is {}, expected '{FORMAT_VERSION}'", yaml::show(version)),
        );
    }
    let resources = match document.get("Resources") {
        Some(Value::Mapping(resources)) => resources.clone(),
        other => {
            findings.regenerate(
                WHOLE_TEMPLATE,
                "Resources",
                format!("is {}, expected a mapping of resources", yaml::show(other)),
            );
            serde_yaml::Mapping::new()
        }
    };
    let ids: Vec<String> = resources
        .keys()
        .map(|key| yaml::scalar_text(key).unwrap_or_default())
        .collect();
    let wanted = super::build(expected.config, expected.deployment)
        .resources
        .logical_ids();
    for id in ids.iter().filter(|id| !wanted.contains(&id.as_str())) {
        findings.regenerate(
            id,
            "",
            "is not part of the template the tool generates for this config",
        );
    }
    let resource = |id: &str| resources.get(id);
    bucket::check_bucket(resource(BUCKET), expected, &mut findings);
    others::check_bucket_policy(resource(BUCKET_POLICY), expected, &mut findings);
    others::check_vpc_endpoint(resource(VPC_ENDPOINT), expected, &mut findings);
    others::check_parameters(
        resource(BUCKET_NAME_PARAMETER),
        resource(BUCKET_ARN_PARAMETER),
        expected,
        &mut findings,
    );
    others::check_outputs(document.get("Outputs"), expected, &mut findings);
    let (metadata, stale) = check_metadata(&document, expected, &mut findings);
    // Hand edits are looked for whenever the file is a current template of this deployment, next
    // to the rule findings (a stale or foreign file differs everywhere for other reasons).
    let current = metadata
        .as_ref()
        .is_some_and(|m| m.deployment == expected.deployment.name);
    if current && !stale {
        check_hand_edits(&document, expected, &mut findings);
    }
    CheckReport {
        findings: findings.list,
        metadata,
        stale,
        resources: ids,
    }
}

/// `Metadata.S3Provisioner`: present, for this deployment, from this config and tool version.
fn check_metadata(
    document: &Value,
    expected: &Expected<'_>,
    findings: &mut Findings<'_>,
) -> (Option<TemplateMetadata>, bool) {
    let block = document
        .get("Metadata")
        .and_then(|m| m.get("S3Provisioner"));
    let Some(block) = block else {
        findings.regenerate(
            "Metadata",
            "S3Provisioner",
            "is missing, so the template cannot be matched to a config (was it generated by s3-provisioner?)",
        );
        return (None, false);
    };
    let metadata: TemplateMetadata = match serde_yaml::from_value(block.clone()) {
        Ok(metadata) => metadata,
        Err(error) => {
            findings.regenerate(
                "Metadata",
                "S3Provisioner",
                format!("is malformed: {error}"),
            );
            return (None, false);
        }
    };
    let deployment = expected.deployment;
    if metadata.deployment != deployment.name {
        findings.add(
            "Metadata",
            "S3Provisioner.Deployment",
            format!(
                "is {:?}: the file was made for another deployment than {:?}",
                metadata.deployment, deployment.name
            ),
            format!(
                "check --solution (this run uses {}), or {}",
                deployment.solution, expected.regenerate
            ),
        );
    }
    let current = expected.config.normalised_sha256();
    let mut stale = false;
    if metadata.config_sha256 != current {
        stale = true;
        findings.regenerate(
            "Metadata",
            "S3Provisioner.ConfigSha256",
            format!(
                "the template is stale: it was generated from a different config (sha256 {}…, the config now hashes to {}…)",
                short(&metadata.config_sha256),
                short(&current)
            ),
        );
    }
    if metadata.tool_version != crate::about::VERSION {
        stale = true;
        findings.regenerate(
            "Metadata",
            "S3Provisioner.ToolVersion",
            format!(
                "the template is stale: it was generated by s3-provisioner {}, this is {}",
                metadata.tool_version,
                crate::about::VERSION
            ),
        );
    }
    (Some(metadata), stale)
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Compare the whole file with the template generated now and report the edits no specific rule
/// reported already (so every edit is listed, and none twice).
fn check_hand_edits(document: &Value, expected: &Expected<'_>, findings: &mut Findings<'_>) {
    const SHOWN: usize = 8;
    /// Enough differences to find the uncovered ones among the covered.
    const LOOKED_AT: usize = 500;
    let generated = super::build(expected.config, expected.deployment);
    let Ok(generated) = serde_yaml::to_value(&generated) else {
        return;
    };
    let paths: Vec<String> = yaml::differences(&generated, document, LOOKED_AT)
        .into_iter()
        .filter(|path| !findings.list.iter().any(|f| covers(f, path)))
        .collect();
    if paths.is_empty() {
        return;
    }
    let mut list = paths
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        list.push_str(", …");
    }
    findings.add(
        WHOLE_TEMPLATE,
        paths.first().map_or("", String::as_str),
        format!(
            "the file was edited by hand; it differs from the generated template at: {list}"
        ),
        format!(
            "deploying actions always deploy the generated template, so edits in the file have no effect: change the site config instead and {}",
            expected.regenerate
        ),
    );
}

/// Whether finding `f` already reports the difference at `path` (a path of
/// [`yaml::differences`], e.g. `Resources.Bucket.Properties.BucketName (removed)`).
fn covers(f: &Finding, path: &str) -> bool {
    let path = path
        .trim_end_matches(" (removed)")
        .trim_end_matches(" (added)");
    let below = |inner: &str, outer: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with(['.', '[']))
    };
    // Either way round: a list whose length changed differs as a whole, while the finding names
    // the element that made it differ.
    let under = |place: &str| below(path, place) || below(place, path);
    let joined = |a: &str, b: &str| {
        if b.is_empty() {
            a.to_owned()
        } else {
            format!("{a}.{b}")
        }
    };
    if f.resource == WHOLE_TEMPLATE {
        return !f.property.is_empty() && under(&f.property);
    }
    let resource = format!("Resources.{}", f.resource);
    under(&joined(&format!("{resource}.Properties"), &f.property))
        || under(&joined(&resource, &f.property))
        || under(&joined(&f.resource, &f.property))
}

/// Whether a value means `true` to CloudFormation (`true` or the string `"true"`, any case).
fn is_true(value: Option<&Value>) -> bool {
    value
        .and_then(yaml::scalar_text)
        .is_some_and(|text| text.eq_ignore_ascii_case("true"))
}

/// Whether a value means `false` to CloudFormation.
fn is_false(value: Option<&Value>) -> bool {
    value
        .and_then(yaml::scalar_text)
        .is_some_and(|text| text.eq_ignore_ascii_case("false"))
}

/// The properties of a resource after checking its `Type`; `None` (with a finding) when the
/// resource has no usable properties.
fn properties<'v>(
    id: &str,
    resource: &'v Value,
    kind: &str,
    findings: &mut Findings<'_>,
) -> Option<&'v Value> {
    let actual = resource.get("Type");
    if actual.and_then(Value::as_str) != Some(kind) {
        findings.regenerate(
            id,
            "Type",
            format!("is {}, expected {kind}", yaml::show(actual)),
        );
    }
    match resource.get("Properties") {
        Some(properties @ Value::Mapping(_)) => Some(properties),
        other => {
            findings.regenerate(
                id,
                "Properties",
                format!("is {}, expected a mapping", yaml::show(other)),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests;
