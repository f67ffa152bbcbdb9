//! Tests of the template checks: clean templates pass, every weakening is named.

use serde_yaml::Value;

use super::*;
use crate::config::LifecyclePreset;
use crate::fixtures;
use crate::naming;

const COMMAND: &str = "s3-provisioner --config x.yaml --action create-prov-template";

fn run(text: &str, config: &ValidConfig, deployment: &Deployment) -> CheckReport {
    check(
        text,
        &Expected {
            config,
            deployment,
            regenerate: COMMAND,
        },
    )
}

/// The generated template of `config`'s shared deployment, edited by `edit`, then checked.
fn check_edited(config: &ValidConfig, edit: impl FnOnce(&mut Value)) -> CheckReport {
    let deployment = naming::shared_deployment(config).unwrap();
    let text = crate::template::render(config, &deployment).unwrap();
    let mut document: Value = serde_yaml::from_str(&text).unwrap();
    edit(&mut document);
    run(
        &serde_yaml::to_string(&document).unwrap(),
        config,
        &deployment,
    )
}

/// A change to a config, for the staleness test.
type Change = Box<dyn Fn(&mut ValidConfig)>;

fn places(report: &CheckReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| format!("{}:{}", f.resource, f.property))
        .collect()
}

fn bucket_props(document: &mut Value) -> &mut serde_yaml::Mapping {
    document["Resources"]["Bucket"]["Properties"]
        .as_mapping_mut()
        .unwrap()
}

#[test]
fn generated_templates_are_clean() {
    for config in [
        fixtures::shared_site(),
        fixtures::vpc_site(),
        fixtures::compliance_site(),
        fixtures::development_site(),
        fixtures::none_site(),
    ] {
        let report = check_edited(&config, |_| {});
        assert_eq!(report.findings, [], "{}", config.source.display());
        assert!(!report.stale);
        assert_eq!(
            report.metadata.unwrap().config_sha256,
            config.normalised_sha256()
        );
    }
    let config = fixtures::dedicated_site();
    let deployment = naming::dedicated_deployment(&config, "recommendation-engine").unwrap();
    let text = crate::template::render(&config, &deployment).unwrap();
    assert_eq!(run(&text, &config, &deployment).findings, []);
    let test_copy = naming::test_deployment(&deployment, "t123abc").unwrap();
    let text = crate::template::render(&config, &test_copy).unwrap();
    assert_eq!(run(&text, &config, &test_copy).findings, []);
}

#[test]
fn short_form_tags_are_read_like_long_form() {
    let config = fixtures::vpc_site();
    let deployment = naming::shared_deployment(&config).unwrap();
    let text = crate::template::render(&config, &deployment).unwrap();
    let short = text
        .replace("Bucket:\n        Ref: Bucket", "Bucket: !Ref Bucket")
        .replace(
            "- Fn::GetAtt:\n                  - Bucket\n                  - Arn",
            "- !GetAtt Bucket.Arn",
        )
        .replace("- Fn::Sub: ${Bucket.Arn}/*", "- !Sub '${Bucket.Arn}/*'")
        .replace(
            "ServiceName:\n        Fn::Sub: com.amazonaws.${AWS::Region}.s3",
            "ServiceName: !Sub 'com.amazonaws.${AWS::Region}.s3'",
        );
    assert_ne!(short, text, "the edits applied");
    assert!(short.contains("!Ref Bucket") && short.contains("!GetAtt Bucket.Arn"));
    assert_eq!(run(&short, &config, &deployment).findings, []);
}

#[test]
fn removed_bucket_policy_is_reported() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        doc["Resources"]
            .as_mapping_mut()
            .unwrap()
            .remove("BucketPolicy");
    });
    assert_eq!(places(&report), ["BucketPolicy:"]);
    assert!(report.findings[0].problem.contains("plain HTTP"));
}

#[test]
fn public_access_block_switched_off_is_reported() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        bucket_props(doc)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] = Value::Bool(false);
    });
    assert_eq!(
        places(&report),
        ["Bucket:PublicAccessBlockConfiguration.BlockPublicAcls"]
    );
    assert!(
        report.findings[0]
            .to_string()
            .contains("could be made public")
    );
}

#[test]
fn removed_encryption_is_reported() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        bucket_props(doc).remove("BucketEncryption");
    });
    assert_eq!(places(&report), ["Bucket:BucketEncryption"]);
}

#[test]
fn deletion_policy_delete_is_reported_on_real_deployments() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        doc["Resources"]["Bucket"]["DeletionPolicy"] = Value::from("Delete");
    });
    assert_eq!(places(&report), ["Bucket:DeletionPolicy"]);
    assert!(report.findings[0].problem.contains("Retain"));
}

#[test]
fn other_weakenings_are_reported() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        let props = bucket_props(doc);
        props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"] = Value::from("none");
        props["OwnershipControls"]["Rules"][0]["ObjectOwnership"] = Value::from("ObjectWriter");
        props.insert("AccessControl".into(), "PublicRead".into());
        doc["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]
            ["Bool"]["aws:SecureTransport"] = Value::from("true");
    });
    assert_eq!(
        places(&report),
        [
            "Bucket:BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm",
            "Bucket:OwnershipControls",
            "Bucket:AccessControl",
            "BucketPolicy:PolicyDocument.Statement",
        ]
    );
}

#[test]
fn public_allow_statement_is_reported() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        let statements =
            doc["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
                .as_sequence_mut()
                .unwrap();
        let allow: Value = serde_yaml::from_str(
            "{Effect: Allow, Principal: {AWS: '*'}, Action: 's3:GetObject', Resource: x}",
        )
        .unwrap();
        statements.push(allow);
    });
    assert_eq!(
        places(&report),
        ["BucketPolicy:PolicyDocument.Statement[1]"]
    );
}

#[test]
fn lifecycle_sanity() {
    let report = check_edited(&fixtures::compliance_site(), |doc| {
        let rule = &mut bucket_props(doc)["LifecycleConfiguration"]["Rules"][0];
        rule["ExpirationInDays"] = Value::from(60);
        rule["NoncurrentVersionTransitions"][0]["TransitionInDays"] = Value::from(0);
        rule["Prefix"] = Value::from("");
    });
    assert_eq!(
        places(&report),
        [
            "Bucket:LifecycleConfiguration.Rules[0].Prefix",
            "Bucket:LifecycleConfiguration.Rules[0].ExpirationInDays",
            "Bucket:LifecycleConfiguration.Rules[0].NoncurrentVersionTransitions[0].TransitionInDays",
        ]
    );
    let report = check_edited(&fixtures::shared_site(), |doc| {
        let rule = &mut bucket_props(doc)["LifecycleConfiguration"]["Rules"][0];
        rule["Transitions"][1]["TransitionInDays"] = Value::from(20);
    });
    assert_eq!(
        places(&report),
        ["Bucket:LifecycleConfiguration.Rules[0].Transitions[1].TransitionInDays"]
    );
    assert!(report.findings[0].problem.contains("increasing order"));
}

#[test]
fn lifecycle_must_match_the_preset() {
    let mut config = fixtures::shared_site();
    let report = check_edited(&config, |doc| {
        bucket_props(doc).remove("LifecycleConfiguration");
    });
    assert_eq!(places(&report), ["Bucket:LifecycleConfiguration"]);
    config.s3.lifecycle_policy = LifecyclePreset::None;
    let deployment = naming::shared_deployment(&config).unwrap();
    let text = crate::template::render(&fixtures::shared_site(), &deployment).unwrap();
    let report = run(&text, &config, &deployment);
    assert!(places(&report).contains(&"Bucket:LifecycleConfiguration".to_owned()));
}

#[test]
fn any_config_change_makes_the_template_stale() {
    let base = fixtures::vpc_site();
    let deployment = naming::shared_deployment(&base).unwrap();
    let text = crate::template::render(&base, &deployment).unwrap();
    let changes: Vec<(&str, Change)> = vec![
        (
            "company_name",
            Box::new(|c| c.client.company_name.push('!')),
        ),
        (
            "account_id",
            Box::new(|c| c.client.account_id = "210987654321".into()),
        ),
        ("versioning", Box::new(|c| c.s3.versioning = false)),
        (
            "lifecycle",
            Box::new(|c| c.s3.lifecycle_policy = LifecyclePreset::Development),
        ),
        (
            "tags",
            Box::new(|c| {
                c.s3.tags.insert("CostCenter".into(), "42".into());
            }),
        ),
        (
            "route tables",
            Box::new(|c| {
                c.s3.vpc.as_mut().unwrap().route_table_ids.pop();
            }),
        ),
        ("vpc", Box::new(|c| c.s3.vpc = None)),
    ];
    for (what, change) in changes {
        let mut config = base.clone();
        change(&mut config);
        let report = run(&text, &config, &deployment);
        assert!(report.stale, "{what}");
        assert!(
            places(&report).contains(&"Metadata:S3Provisioner.ConfigSha256".to_owned()),
            "{what}: {:?}",
            report.findings
        );
    }
}

#[test]
fn wrong_names_are_reported() {
    let config = fixtures::shared_site();
    let deployment = naming::shared_deployment(&config).unwrap();
    let text = crate::template::render(&config, &deployment).unwrap();
    let other = naming::dedicated_deployment(&config, "fraud-detection").unwrap();
    let report = run(&text, &config, &other);
    assert_eq!(
        places(&report),
        [
            "Bucket:BucketName",
            "Bucket:Tags.s3-provisioner:deployment",
            "BucketNameParameter:Name",
            "BucketArnParameter:Name",
            "Metadata:S3Provisioner.Deployment",
        ]
    );
}

#[test]
fn hand_edits_outside_the_rules_are_reported() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        bucket_props(doc)["Tags"][0]["Value"] = Value::from("someone-else");
        doc["Description"] = Value::from("mine");
    });
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let finding = &report.findings[0];
    assert_eq!(finding.resource, WHOLE_TEMPLATE);
    assert!(
        finding.problem.contains("Description"),
        "{}",
        finding.problem
    );
    assert!(
        finding
            .problem
            .contains("Resources.Bucket.Properties.Tags[0].Value")
    );
}

#[test]
fn strange_files_give_findings_not_panics() {
    let config = fixtures::shared_site();
    let deployment = naming::shared_deployment(&config).unwrap();
    for text in [
        "",
        "just text",
        "- a list\n",
        "Resources: [1, 2]\n",
        "Resources:\n  Bucket: text\n  BucketPolicy: {Type: AWS::S3::BucketPolicy, Properties: null}\n",
        "Resources:\n  Bucket: {Properties: {Tags: 3, LifecycleConfiguration: {Rules: [1, {Transitions: x}]}}}\n",
        "AWSTemplateFormatVersion: !Ref x\nMetadata: {S3Provisioner: []}\nResources: {Bucket: !Ref y}\n",
        "a: &a [x]\nb: [*a, *a]\n",
        "{\"Resources\": {}}",
    ] {
        let report = run(text, &config, &deployment);
        assert!(!report.findings.is_empty(), "{text:?}");
    }
}

#[test]
fn another_tool_version_makes_the_template_stale() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        doc["Metadata"]["S3Provisioner"]["ToolVersion"] = Value::from("0.0.1");
    });
    assert!(report.stale);
    assert_eq!(places(&report), ["Metadata:S3Provisioner.ToolVersion"]);
    assert!(
        report.findings[0]
            .problem
            .contains("generated by s3-provisioner 0.0.1")
    );
}

#[test]
fn every_weakened_setting_is_listed_not_only_the_first() {
    let report = check_edited(&fixtures::shared_site(), |doc| {
        bucket_props(doc)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] =
            Value::Bool(false);
        bucket_props(doc)["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"] = Value::from("aws:kms");
    });
    assert_eq!(
        places(&report),
        [
            "Bucket:PublicAccessBlockConfiguration.BlockPublicPolicy".to_owned(),
            format!(
                "{WHOLE_TEMPLATE}:Resources.Bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm"
            ),
        ],
        "{:#?}",
        report.findings
    );
    // The rule finding is not repeated in the hand-edit list.
    assert!(!report.findings[1].problem.contains("BlockPublicPolicy"));
}
