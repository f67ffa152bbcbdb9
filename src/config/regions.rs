//! The AWS region codes a config may name (`environment.region`).
//!
//! Only the commercial `aws` partition: every ARN the tool writes (template, IAM policy) starts
//! with `arn:aws:`, so a GovCloud or China region would produce documents that do not work there.
//! Those regions are listed separately so the error can say *why* they are refused instead of
//! calling a real region unknown. Update the list when AWS opens a region (the S3
//! `BucketLocationConstraint` enum of aws-sdk-s3 is a good cross-check).

/// Commercial AWS regions (partition `aws`), sorted.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Real regions in other partitions, which the tool does not support, with their partition.
pub const OTHER_PARTITION_REGIONS: &[(&str, &str)] = &[
    ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"),
    ("us-gov-east-1", "aws-us-gov"),
    ("us-gov-west-1", "aws-us-gov"),
];

/// Whether `region` is a supported region code.
pub fn is_known(region: &str) -> bool {
    KNOWN_REGIONS.binary_search(&region).is_ok()
}

/// The partition of a real but unsupported region (`aws-us-gov`, `aws-cn`).
pub fn other_partition(region: &str) -> Option<&'static str> {
    OTHER_PARTITION_REGIONS
        .iter()
        .find(|(code, _)| *code == region)
        .map(|(_, partition)| *partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_unique_so_binary_search_works() {
        assert!(KNOWN_REGIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn knows_real_regions_only() {
        for region in ["us-west-1", "us-east-1", "eu-central-2", "ap-southeast-7"] {
            assert!(is_known(region), "{region}");
        }
        for region in ["us-west-3", "us-west1", "US-WEST-1", "us-west-1a", ""] {
            assert!(!is_known(region), "{region}");
        }
        assert_eq!(other_partition("us-gov-west-1"), Some("aws-us-gov"));
        assert!(!is_known("us-gov-west-1"));
    }
}
