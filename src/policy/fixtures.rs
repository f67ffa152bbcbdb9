//! Configs for the policy and create-policy tests, read through validation like every fixture
//! (`crate::fixtures::Site`); the files themselves are not needed to test a pure generator.

use crate::config::{Env, LifecyclePreset, ValidConfig};
use crate::fixtures::Site;

/// The seed guide's shared-bucket site, `edge-prod-b001-us-west-1-s3`, without a VPC endpoint.
pub(crate) fn shared_config() -> ValidConfig {
    crate::fixtures::shared_site()
}

/// A dev site in another region with an S3 Gateway VPC endpoint on two route tables.
pub(crate) fn vpc_config() -> ValidConfig {
    Site {
        source: "configs/edge-dev-b002-eu-west-1-s3.yaml".to_owned(),
        account_id: "210987654321".to_owned(),
        lifecycle: LifecyclePreset::Development,
        vpc: Some((
            "vpc-0a1b2c3d4e5f67890".to_owned(),
            vec![
                "rtb-0123456789abcdef0".to_owned(),
                "rtb-89abcdef".to_owned(),
            ],
        )),
        ..Site::new("edge", Env::Dev, "b002", "eu-west-1")
    }
    .validate()
}

/// The seed guide's dedicated-bucket site: the same stem, with `bucket_name_override`.
pub(crate) fn override_config() -> ValidConfig {
    Site {
        source: "configs/edge-prod-b001-us-west-1-recommendation-engine-s3.yaml".to_owned(),
        bucket_name_override: Some("edge-recommendation-engine-data".to_owned()),
        ..Site::new("edge", Env::Prod, "b001", "us-west-1")
    }
    .validate()
}
