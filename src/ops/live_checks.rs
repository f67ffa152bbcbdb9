//! The live checks: the deployment's bucket settings, folder markers and SSM parameters compared
//! with what its template says. check-drift runs them beside CloudFormation's drift detection;
//! test-deploy runs them against its fresh copy.

use crate::aws::AwsClients;
use crate::aws::live;
use crate::config::ValidConfig;
use crate::drift::{Finding, compare, expected};
use crate::naming::Deployment;
use crate::template;

/// The findings of the live checks of `deployment`: its bucket's settings and SSM parameters
/// against the template built from `config`, and the blueprint markers of every solution present
/// under `solutions/` plus the deployment's own solution. Empty when everything matches.
pub async fn live_findings(
    aws: &AwsClients,
    config: &ValidConfig,
    deployment: &Deployment,
) -> anyhow::Result<Vec<Finding>> {
    let expected = expected::expected(&template::build(config, deployment), deployment);
    let mut findings = Vec::new();
    if live::bucket_exists(&aws.s3, &expected.bucket_name).await? {
        let (state, mut solutions) = tokio::try_join!(
            live::read_bucket(&aws.s3, &expected.bucket_name),
            live::solutions(&aws.s3, &expected.bucket_name),
        )?;
        findings.extend(compare::compare_bucket(&expected.bucket, &state));
        if !solutions.contains(&deployment.solution) {
            solutions.push(deployment.solution.clone());
            solutions.sort();
        }
        let wanted = compare::wanted_markers(&solutions);
        let present = live::existing_keys(&aws.s3, &expected.bucket_name, &wanted).await?;
        findings.extend(compare::compare_folders(&solutions, &present));
    } else {
        findings.push(compare::missing_bucket(&expected.bucket_name));
    }
    let parameters = live::read_parameters(&aws.ssm, &expected.parameters).await?;
    findings.extend(compare::compare_parameters(
        &expected.parameters,
        &parameters,
    ));
    Ok(findings)
}
