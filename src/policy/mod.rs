//! The least-privilege operator IAM policy: typed policy documents, the pure generator
//! [`generate`] and the deterministic JSON [`render`]er.
//!
//! The policy is built from one table, [`operations::OPERATIONS`], of every AWS operation made with
//! the operator's credentials (by the tool, and by CloudFormation on the operator's behalf). Each
//! row names its resource [`Scope`]; each scope becomes one statement with a stable `Sid`, scoped
//! to this site's stacks, buckets, objects and parameters. `*` appears only for calls IAM cannot
//! scope (ValidateTemplate, DescribeStackDriftDetectionStatus, EC2 Describe*). EC2 permissions
//! appear only when the config has a VPC endpoint. This module never touches AWS or the disk.

pub mod operations;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::ValidConfig;
use crate::naming;

pub use operations::{Caller, OPERATIONS, Operation, Scope, Service};

/// The IAM policy language version every generated policy uses.
pub const POLICY_VERSION: &str = "2012-10-17";

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always [`POLICY_VERSION`].
    pub version: String,
    pub statement: Vec<Statement>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: String,
    pub effect: Effect,
    /// IAM actions (`s3:GetObject`), sorted.
    pub action: Vec<String>,
    /// Resource ARN patterns (`*` and `?` wildcards), in a fixed order.
    pub resource: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

/// A statement's `Condition` block: operator (`StringEquals`) → condition key → allowed values.
pub type Condition = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// A statement's effect. The operator policy only allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Counts for the `create-policy` summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub statements: usize,
    /// Distinct IAM actions over all statements.
    pub actions: usize,
    /// Statement ids, in policy order.
    pub sids: Vec<String>,
}

impl PolicyDocument {
    /// Statement and distinct-action counts.
    pub fn summary(&self) -> Summary {
        let actions: BTreeSet<&str> = self
            .statement
            .iter()
            .flat_map(|s| s.action.iter().map(String::as_str))
            .collect();
        Summary {
            statements: self.statement.len(),
            actions: actions.len(),
            sids: self.statement.iter().map(|s| s.sid.clone()).collect(),
        }
    }

    /// Whether some `Allow` statement grants `action` on `resource` and no `Deny` statement
    /// refuses it. Conditions are taken as satisfied: the operations table records the requests
    /// that satisfy them (a change set's stack tags carry `cloudformation:CreateAction`).
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let matching = |effect: Effect| {
            self.statement
                .iter()
                .filter(|s| s.effect == effect)
                .any(|s| s.matches(action, resource))
        };
        matching(Effect::Allow) && !matching(Effect::Deny)
    }
}

impl Statement {
    /// Whether this statement names `action` (case-insensitive, as IAM compares actions) and a
    /// resource pattern matching `resource` (case-sensitive).
    pub fn matches(&self, action: &str, resource: &str) -> bool {
        let action = action.to_ascii_lowercase();
        self.action
            .iter()
            .any(|pattern| wildcard_match(&pattern.to_ascii_lowercase(), &action))
            && self
                .resource
                .iter()
                .any(|pattern| wildcard_match(pattern, resource))
    }
}

/// IAM wildcard matching: `*` matches any run of characters (`/` included, possibly empty), `?`
/// exactly one; everything else matches itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` seen and the text position it was tried at, for backtracking.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The resource patterns of one site, from which each scope's statement takes its `Resource`.
struct SiteResources {
    arn_prefix_cfn: String,
    arn_prefix_ec2: String,
    partition: &'static str,
    stem: String,
    region: String,
    account: String,
    bucket_override: Option<String>,
    vpc: Option<crate::config::VpcSettings>,
}

impl SiteResources {
    fn new(config: &ValidConfig) -> Self {
        let region = config.environment.region.clone();
        let account = config.client.account_id.clone();
        let partition = partition(&region);
        SiteResources {
            arn_prefix_cfn: format!("arn:{partition}:cloudformation:{region}:{account}"),
            arn_prefix_ec2: format!("arn:{partition}:ec2:{region}:{account}"),
            partition,
            stem: naming::stem(config),
            region,
            account,
            bucket_override: config.s3.bucket_name_override.clone(),
            vpc: config.s3.vpc.clone(),
        }
    }

    /// Bucket ARN patterns: the shared bucket `{stem}`, every `{stem}-*` bucket (dedicated and
    /// test deployments) and the override when those do not already cover it.
    fn buckets(&self) -> Vec<String> {
        let p = self.partition;
        let mut buckets = vec![
            format!("arn:{p}:s3:::{}", self.stem),
            format!("arn:{p}:s3:::{}-*", self.stem),
        ];
        if let Some(name) = &self.bucket_override {
            let arn = format!("arn:{p}:s3:::{name}");
            if !buckets.iter().any(|pattern| wildcard_match(pattern, &arn)) {
                buckets.push(arn);
            }
        }
        buckets
    }

    fn resources(&self, scope: Scope) -> Vec<String> {
        let stacks = format!("{}:stack/{}-*/*", self.arn_prefix_cfn, self.stem);
        match scope {
            Scope::NoPermission => Vec::new(),
            Scope::CloudFormationAny | Scope::Ec2Any => vec!["*".to_owned()],
            Scope::Stack => vec![stacks],
            // Change set names are not tied to the stem; the CreateAction condition limits these
            // to tags set by CreateChangeSet/ExecuteChangeSet, which only this site's stacks allow.
            Scope::StackTags => vec![stacks, format!("{}:changeSet/*/*", self.arn_prefix_cfn)],
            Scope::Bucket => self.buckets(),
            Scope::Object => self
                .buckets()
                .into_iter()
                .map(|bucket| format!("{bucket}/*"))
                .collect(),
            // naming::Deployment::ssm_*_parameter: `/s3-provisioner/{deployment}/…`; the ARN drops
            // the leading slash. A test checks every deployment's parameters match.
            Scope::Parameter => vec![format!(
                "arn:{}:ssm:{}:{}:parameter/s3-provisioner/{}*",
                self.partition, self.region, self.account, self.stem
            )],
            Scope::VpcEndpointAttach => {
                let mut resources = vec![format!("{}:vpc-endpoint/*", self.arn_prefix_ec2)];
                if let Some(vpc) = &self.vpc {
                    resources.push(format!("{}:vpc/{}", self.arn_prefix_ec2, vpc.vpc_id));
                    resources.extend(
                        vpc.route_table_ids
                            .iter()
                            .map(|rtb| format!("{}:route-table/{rtb}", self.arn_prefix_ec2)),
                    );
                }
                resources
            }
            Scope::VpcEndpoint => vec![format!("{}:vpc-endpoint/*", self.arn_prefix_ec2)],
        }
    }
}

/// The statement id of a scope.
pub fn sid(scope: Scope) -> &'static str {
    match scope {
        Scope::NoPermission => "NoPermissionNeeded",
        Scope::Stack => "CloudFormationStacks",
        Scope::StackTags => "CloudFormationStackTags",
        Scope::CloudFormationAny => "CloudFormationUnscopedCalls",
        Scope::Bucket => "S3Buckets",
        Scope::Object => "S3Objects",
        Scope::Parameter => "SsmParameters",
        Scope::VpcEndpointAttach => "Ec2VpcEndpointAttach",
        Scope::VpcEndpoint => "Ec2VpcEndpoints",
        Scope::Ec2Any => "Ec2Describe",
    }
}

fn condition(scope: Scope) -> Option<Condition> {
    match scope {
        // Tag-on-create: only as part of the change-set calls the tool makes, never TagResource
        // called directly on any stack.
        Scope::StackTags => Some(BTreeMap::from([(
            "StringEquals".to_owned(),
            BTreeMap::from([(
                "cloudformation:CreateAction".to_owned(),
                vec!["CreateChangeSet".to_owned(), "ExecuteChangeSet".to_owned()],
            )]),
        )])),
        _ => None,
    }
}

/// The operations that apply to `config` (EC2 ones only with a VPC endpoint).
pub fn applicable_operations(config: &ValidConfig) -> impl Iterator<Item = &'static Operation> {
    let has_vpc = config.s3.vpc.is_some();
    OPERATIONS
        .iter()
        .filter(move |op| !op.scope.needs_vpc() || has_vpc)
}

/// The least-privilege operator policy for `config`: one statement per scope in use, in [`Scope`]
/// declaration order, each with its sorted, distinct actions.
pub fn generate(config: &ValidConfig) -> PolicyDocument {
    let site = SiteResources::new(config);
    let mut actions: BTreeMap<Scope, BTreeSet<&'static str>> = BTreeMap::new();
    for op in applicable_operations(config) {
        if op.scope != Scope::NoPermission {
            actions
                .entry(op.scope)
                .or_default()
                .extend(op.actions.iter().copied());
        }
    }
    let statement = actions
        .into_iter()
        .map(|(scope, actions)| Statement {
            sid: sid(scope).to_owned(),
            effect: Effect::Allow,
            action: actions.into_iter().map(str::to_owned).collect(),
            resource: site.resources(scope),
            condition: condition(scope),
        })
        .collect();
    PolicyDocument {
        version: POLICY_VERSION.to_owned(),
        statement,
    }
}

/// Pretty JSON with a trailing newline; byte-identical for the same document.
pub fn render(document: &PolicyDocument) -> String {
    let mut text =
        serde_json::to_string_pretty(document).expect("policy documents always serialise");
    text.push('\n');
    text
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests;
