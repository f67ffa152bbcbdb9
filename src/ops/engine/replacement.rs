//! The bucket-replacement guard: a deployment never replaces or renames its bucket, because
//! CloudFormation would create a new, empty bucket and leave the data behind in the old one
//! (`DeletionPolicy: Retain`). The change set's own verdict is not trusted alone: the bucket name
//! in the deployed template is compared with the new one as well, so a rename is refused even
//! when the change set does not (or not yet) say "Replacement".

use anyhow::Context as _;
use serde_yaml::Value;

use crate::aws::AwsClients;
use crate::aws::cfn::{
    self, ChangeAction, ChangeSetDetails, ChangeSetKind, Replacement, ResourceChange,
};
use crate::exit::Refusal;
use crate::naming::Deployment;
use crate::template::{self, yaml};

/// Refuse (exit 4), even with `--force`, a change set that would replace, remove or rename the
/// bucket: one the change set marks as destructive, or, for an update, one whose `BucketName`
/// in the deployed template (GetTemplate) differs from `new_template`'s. The caller deletes the
/// change set on refusal. A typical cause: a dedicated-bucket config (`bucket_name_override`) run
/// against the shared stack.
pub async fn refuse_bucket_replacement(
    aws: &AwsClients,
    details: &ChangeSetDetails,
    deployment: &Deployment,
    new_template: &str,
) -> anyhow::Result<()> {
    if let Some(change) = details
        .changes
        .iter()
        .find(|c| c.logical_id == template::BUCKET && may_replace_or_remove(c))
    {
        let current = change
            .physical_id
            .as_deref()
            .unwrap_or("the current bucket");
        return Err(refusal(deployment, current, &verdict(change)).into());
    }
    if details.handle.kind != ChangeSetKind::Update {
        return Ok(());
    }
    let stack = &deployment.stack_name;
    let Some(deployed) = cfn::get_template(&aws.cfn, stack).await? else {
        return Ok(());
    };
    let new_name = bucket_name_in(new_template)
        .context("reading the bucket name of the template about to be deployed")?;
    let old_name = match bucket_name_in(&deployed) {
        Ok(name) => name,
        Err(error) => {
            return Err(Refusal(format!(
                "cannot tell which bucket the deployed template of stack {stack} names ({error:#}), so cannot rule out that this change replaces it; nothing was changed. Inspect it with `aws cloudformation get-template --stack-name {stack} --region {}`",
                aws.region
            ))
            .into());
        }
    };
    if old_name == new_name {
        return Ok(());
    }
    let current = yaml::show(old_name.as_ref());
    let why = format!("new bucket name: {}", deployment.bucket_name);
    Err(refusal(deployment, current.trim_matches('"'), &why).into())
}

/// Whether a change to the bucket may replace or remove it. Fails closed: besides a removal and a
/// `Replacement` of `True` or `Conditional`, an action CloudFormation cannot determine yet
/// (`Dynamic`) or does not name as this version knows it, and any changed property that
/// `RequiresRecreation` (`Always`, `Conditionally`) count, whatever `Replacement` says.
fn may_replace_or_remove(change: &ResourceChange) -> bool {
    change.is_destructive()
        || matches!(
            change.action,
            ChangeAction::Dynamic | ChangeAction::Other(_)
        )
        || change.details.iter().any(|detail| {
            matches!(
                detail.requires_recreation.as_deref(),
                Some("Always" | "Conditionally")
            )
        })
}

/// What the change set says about the bucket, for the refusal: `the change set says Modify,
/// Replacement True (ObjectLockEnabled requires recreation: Always)`.
fn verdict(change: &ResourceChange) -> String {
    let action = match &change.action {
        ChangeAction::Add => "Add",
        ChangeAction::Modify => "Modify",
        ChangeAction::Remove => "Remove",
        ChangeAction::Import => "Import",
        ChangeAction::Dynamic => "Dynamic (not yet determined)",
        ChangeAction::Other(name) => name.as_str(),
    };
    let mut verdict = format!("the change set says {action}");
    match change.replacement {
        Some(Replacement::Yes) => verdict.push_str(", Replacement True"),
        Some(Replacement::Conditional) => verdict.push_str(", Replacement Conditional"),
        Some(Replacement::No) | None => {}
    }
    let recreated: Vec<String> = change
        .details
        .iter()
        .filter_map(|d| {
            let recreation = d.requires_recreation.as_deref()?;
            matches!(recreation, "Always" | "Conditionally").then(|| {
                format!(
                    "{} requires recreation: {recreation}",
                    d.name.as_deref().unwrap_or("a property")
                )
            })
        })
        .collect();
    if !recreated.is_empty() {
        verdict = format!("{verdict} ({})", recreated.join(", "));
    }
    verdict
}

fn refusal(deployment: &Deployment, current: &str, why: &str) -> Refusal {
    Refusal(format!(
        "this change would replace or remove bucket {current} of stack {} ({why}); s3-provisioner never replaces a bucket, because the data would stay behind in the old one. Nothing was changed. Check --config and --solution (a dedicated-bucket config needs its solution), or move the data and use --action tear-down first",
        deployment.stack_name
    ))
}

/// The `BucketName` property of the template's bucket resource (in long form, so `!Sub` and
/// `Fn::Sub` compare equal), `None` when the template sets none (CloudFormation then makes one).
fn bucket_name_in(template_text: &str) -> anyhow::Result<Option<Value>> {
    let parsed = yaml::parse(template_text)?;
    Ok(parsed
        .get("Resources")
        .and_then(|resources| resources.get(template::BUCKET))
        .and_then(|bucket| bucket.get("Properties"))
        .and_then(|properties| properties.get("BucketName"))
        .cloned())
}

#[cfg(test)]
mod tests {
    use super::bucket_name_in;

    #[test]
    fn the_bucket_name_is_read_in_either_form() {
        let literal = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: old-name\n";
        let json = r#"{"Resources":{"Bucket":{"Type":"AWS::S3::Bucket","Properties":{"BucketName":"old-name"}}}}"#;
        assert_eq!(
            bucket_name_in(literal).unwrap(),
            bucket_name_in(json).unwrap()
        );
        assert_eq!(
            bucket_name_in(literal).unwrap().unwrap().as_str(),
            Some("old-name")
        );
        let short = "Resources:\n  Bucket:\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-x'\n";
        let long = "Resources:\n  Bucket:\n    Properties:\n      BucketName:\n        Fn::Sub: '${AWS::StackName}-x'\n";
        assert_eq!(
            bucket_name_in(short).unwrap(),
            bucket_name_in(long).unwrap()
        );
        assert_eq!(bucket_name_in("Resources: {}\n").unwrap(), None);
        assert!(bucket_name_in("- not a mapping\n").is_err());
    }
}
