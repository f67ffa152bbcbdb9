//! Snapshot and property tests of the generated template.

use super::*;
use crate::fixtures;
use crate::naming::{self, Pattern};

fn rendered(config: &ValidConfig, deployment: &Deployment) -> String {
    render(config, deployment).unwrap()
}

fn shared(config: &ValidConfig) -> Deployment {
    naming::shared_deployment(config).unwrap()
}

#[test]
fn snapshot_shared_site() {
    let config = fixtures::shared_site();
    insta::assert_snapshot!(rendered(&config, &shared(&config)));
}

#[test]
fn snapshot_dedicated_site_with_override() {
    let config = fixtures::dedicated_site();
    let deployment = naming::dedicated_deployment(&config, "recommendation-engine").unwrap();
    assert_eq!(deployment.pattern, Pattern::Dedicated);
    insta::assert_snapshot!(rendered(&config, &deployment));
}

#[test]
fn snapshot_vpc_site() {
    let config = fixtures::vpc_site();
    insta::assert_snapshot!(rendered(&config, &shared(&config)));
}

#[test]
fn snapshot_compliance_site() {
    let config = fixtures::compliance_site();
    insta::assert_snapshot!(rendered(&config, &shared(&config)));
}

#[test]
fn snapshot_development_site() {
    let config = fixtures::development_site();
    insta::assert_snapshot!(rendered(&config, &shared(&config)));
}

#[test]
fn snapshot_none_site() {
    let config = fixtures::none_site();
    insta::assert_snapshot!(rendered(&config, &shared(&config)));
}

#[test]
fn snapshot_test_deployment() {
    let config = fixtures::shared_site();
    let deployment = naming::test_deployment(&shared(&config), "t0a1b2c").unwrap();
    insta::assert_snapshot!(rendered(&config, &deployment));
}

#[test]
fn same_config_renders_the_same_bytes() {
    let config = fixtures::vpc_site();
    let deployment = shared(&config);
    let first = rendered(&config, &deployment);
    let again = rendered(&config.clone(), &deployment.clone());
    assert_eq!(first, again);
}

#[test]
fn real_buckets_are_retained_and_test_buckets_deleted() {
    let config = fixtures::shared_site();
    let real = build(&config, &shared(&config));
    assert_eq!(
        real.resources.bucket.deletion_policy,
        Some(RetentionPolicy::Retain)
    );
    assert_eq!(
        real.resources.bucket.update_replace_policy,
        Some(RetentionPolicy::Retain)
    );
    let test = build(
        &config,
        &naming::test_deployment(&shared(&config), "t000001").unwrap(),
    );
    assert_eq!(
        test.resources.bucket.deletion_policy,
        Some(RetentionPolicy::Delete)
    );
}

#[test]
fn tags_are_sorted_and_include_the_tools_own() {
    let config = fixtures::shared_site();
    let deployment = naming::test_deployment(&shared(&config), "t0000ff").unwrap();
    let tags = stack_tags(&config, &deployment);
    let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Owner",
            "Purpose",
            "s3-provisioner:deployment",
            "s3-provisioner:managed-by",
            "s3-provisioner:test-id"
        ]
    );
    assert_eq!(tags[2].1, deployment.name);
    assert_eq!(tags[3].1, "s3-provisioner");
    assert_eq!(tags[4].1, "t0000ff");
    let template = build(&config, &deployment);
    let bucket_tags: Vec<(String, String)> = template
        .resources
        .bucket
        .properties
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    assert_eq!(bucket_tags, tags, "stack tags = bucket tags");
}

#[test]
fn tool_version_is_metadata_not_a_tag() {
    let config = fixtures::shared_site();
    let deployment = shared(&config);
    let text = rendered(&config, &deployment);
    let metadata = metadata_of(&text).unwrap();
    assert_eq!(metadata, super::metadata(&config, &deployment));
    assert_eq!(metadata.tool_version, crate::about::VERSION);
    assert_eq!(metadata.config_sha256, config.normalised_sha256());
    assert!(
        stack_tags(&config, &deployment)
            .iter()
            .all(|(_, v)| v != crate::about::VERSION)
    );
}

#[test]
fn rendered_yaml_uses_long_form_intrinsics_only() {
    for config in [fixtures::vpc_site(), fixtures::shared_site()] {
        let text = rendered(&config, &shared(&config));
        assert!(!text.contains('!'), "no short-form tags:\n{text}");
        assert!(text.contains("Fn::GetAtt"));
    }
}

#[test]
fn logical_ids_match_the_serialised_keys() {
    let config = fixtures::vpc_site();
    let template = build(&config, &shared(&config));
    let value = serde_yaml::to_value(&template).unwrap();
    let keys: Vec<&str> = value["Resources"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, template.resources.logical_ids());
    assert_eq!(
        keys,
        [
            BUCKET,
            BUCKET_POLICY,
            VPC_ENDPOINT,
            BUCKET_NAME_PARAMETER,
            BUCKET_ARN_PARAMETER
        ]
    );
}

#[test]
fn metadata_of_rejects_foreign_templates() {
    let error = metadata_of("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n").unwrap_err();
    assert!(format!("{error:#}").contains("Metadata.S3Provisioner"));
}
