//! Drift: what `check-drift` and `test-deploy` compare and how they report it.
//!
//! This module is pure: it owns the findings ([`Finding`], [`Check`], [`Source`]), the expected
//! state derived from the generated template ([`expected`]), the comparison of expected with live
//! state ([`compare`]) and the findings table, and the data compared: the live state ([`state`]) and
//! CloudFormation's drift report ([`reported`]). Reading the live state is [`crate::aws::live`]'s
//! job, running CloudFormation's drift detection [`crate::aws::drift`]'s; `drift` uses nothing of
//! `aws`. The expected values are never restated here: they come from [`crate::template::build`], the same source of truth as the
//! template CloudFormation deploys.

pub mod compare;
pub mod expected;
pub mod policy_json;
pub mod reported;
pub mod state;

use serde::Serialize;

/// Where a finding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// CloudFormation drift detection (DetectStackDrift).
    Cloudformation,
    /// The tool's own live check with S3 and SSM Get* calls.
    Live,
    /// The solution folder blueprint (`blueprint`).
    Blueprint,
}

impl Source {
    /// The lowercase name shown in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cloudformation => "cloudformation",
            Source::Live => "live",
            Source::Blueprint => "blueprint",
        }
    }
}

/// The checks, in the order they are run and printed. `test-deploy` prints pass/fail per check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// CloudFormation's drift detection of the whole stack.
    Stack,
    /// The bucket exists.
    Bucket,
    Versioning,
    Encryption,
    PublicAccessBlock,
    OwnershipControls,
    Lifecycle,
    Tags,
    BucketPolicy,
    SsmParameters,
    /// Every solution folder has all its blueprint markers.
    Folders,
}

impl Check {
    /// The live checks (everything but CloudFormation's own), in order.
    pub const LIVE: [Check; 10] = [
        Check::Bucket,
        Check::Versioning,
        Check::Encryption,
        Check::PublicAccessBlock,
        Check::OwnershipControls,
        Check::Lifecycle,
        Check::Tags,
        Check::BucketPolicy,
        Check::SsmParameters,
        Check::Folders,
    ];

    /// The kebab-case name shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Stack => "stack",
            Check::Bucket => "bucket",
            Check::Versioning => "versioning",
            Check::Encryption => "encryption",
            Check::PublicAccessBlock => "public-access-block",
            Check::OwnershipControls => "ownership-controls",
            Check::Lifecycle => "lifecycle",
            Check::Tags => "tags",
            Check::BucketPolicy => "bucket-policy",
            Check::SsmParameters => "ssm-parameters",
            Check::Folders => "folders",
        }
    }
}

/// One difference between what the config says and what is deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which check found it.
    pub check: Check,
    /// The resource: a template logical ID (`Bucket`, `BucketPolicy`, …) or a solution folder.
    pub resource: String,
    /// The property, in CloudFormation's spelling (`VersioningConfiguration.Status`), or a
    /// folder marker key.
    pub property: String,
    pub expected: String,
    pub actual: String,
    pub source: Source,
}

/// What a missing value looks like in the table.
pub const ABSENT: &str = "(absent)";

/// Pass/fail of each check in `checks`, given the findings.
pub fn check_results(checks: &[Check], findings: &[Finding]) -> Vec<CheckResult> {
    checks
        .iter()
        .map(|&check| {
            let count = findings.iter().filter(|f| f.check == check).count();
            CheckResult {
                check,
                passed: count == 0,
                findings: count,
            }
        })
        .collect()
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub check: Check,
    pub passed: bool,
    /// Number of findings of this check.
    pub findings: usize,
}

/// The findings as an aligned text table (header + one row per finding). Long values are kept
/// whole: a drift report that hides the value that drifted would be useless.
pub fn table(findings: &[Finding]) -> Vec<String> {
    const HEADER: [&str; 5] = ["RESOURCE", "PROPERTY", "EXPECTED", "ACTUAL", "SOURCE"];
    let rows: Vec<[&str; 5]> = findings
        .iter()
        .map(|f| {
            [
                f.resource.as_str(),
                f.property.as_str(),
                f.expected.as_str(),
                f.actual.as_str(),
                f.source.as_str(),
            ]
        })
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(HEADER)
        .chain(rows)
        .map(|row| {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(width - cell.chars().count() + 2));
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: Check, property: &str) -> Finding {
        Finding {
            check,
            resource: "Bucket".to_owned(),
            property: property.to_owned(),
            expected: "Enabled".to_owned(),
            actual: "Suspended".to_owned(),
            source: Source::Live,
        }
    }

    #[test]
    fn table_aligns_columns() {
        let lines = table(&[finding(Check::Versioning, "VersioningConfiguration.Status")]);
        insta::assert_snapshot!(lines.join("\n"), @r"
        RESOURCE  PROPERTY                        EXPECTED  ACTUAL     SOURCE
        Bucket    VersioningConfiguration.Status  Enabled   Suspended  live
        ");
    }

    #[test]
    fn check_results_count_findings_per_check() {
        let findings = [
            finding(Check::Tags, "Tags.Owner"),
            finding(Check::Tags, "Tags.Purpose"),
        ];
        let results = check_results(&[Check::Versioning, Check::Tags], &findings);
        assert_eq!(
            results,
            [
                CheckResult {
                    check: Check::Versioning,
                    passed: true,
                    findings: 0
                },
                CheckResult {
                    check: Check::Tags,
                    passed: false,
                    findings: 2
                },
            ]
        );
    }
}
