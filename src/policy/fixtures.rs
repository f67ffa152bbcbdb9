//! `ValidConfig` literals for the policy and create-policy tests (`config::load` is not needed to
//! test a pure generator).

use std::path::PathBuf;

use crate::config::{Env, LifecyclePreset, ValidConfig, VpcSettings};

/// The seed guide's shared-bucket site, `edge-prod-b001-us-west-1-s3`, without a VPC endpoint.
pub(crate) fn shared_config() -> ValidConfig {
    crate::fixtures::shared_site()
}

/// A dev site in another region with an S3 Gateway VPC endpoint on two route tables.
pub(crate) fn vpc_config() -> ValidConfig {
    let mut config = shared_config();
    config.source = PathBuf::from("configs/edge-dev-b002-eu-west-1-s3.yaml");
    config.client.account_id = "210987654321".to_owned();
    config.client.tenant_id = "b002".to_owned();
    config.environment.env = Env::Dev;
    config.environment.region = "eu-west-1".to_owned();
    config.s3.lifecycle_policy = LifecyclePreset::Development;
    config.s3.vpc = Some(VpcSettings {
        vpc_id: "vpc-0a1b2c3d4e5f67890".to_owned(),
        route_table_ids: vec![
            "rtb-0123456789abcdef0".to_owned(),
            "rtb-89abcdef".to_owned(),
        ],
    });
    config
}

/// The seed guide's dedicated-bucket site: the same stem, with `bucket_name_override`.
pub(crate) fn override_config() -> ValidConfig {
    let mut config = shared_config();
    config.source = PathBuf::from("configs/edge-prod-b001-us-west-1-recommendation-engine-s3.yaml");
    config.s3.bucket_name_override = Some("edge-recommendation-engine-data".to_owned());
    config
}
