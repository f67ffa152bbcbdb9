//! Tear-down's last step against S3's eventual consistency, with clients answering from
//! aws-smithy-mocks in S3's shapes: a bucket deleted a moment ago that still answers HeadBucket
//! 200 for a while is not "left behind"; one that keeps answering is, by name. The stack is
//! already gone and the bucket empty, so the run is: look, confirm (`--force`), empty (nothing to
//! delete), DeleteBucket, confirm both gone. Paused tokio time drives the re-check's waits.

use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
use aws_sdk_s3::operation::delete_bucket::DeleteBucketOutput;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
use aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput;
use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
use aws_smithy_mocks::mock;
use aws_smithy_types::error::ErrorMetadata;

use super::*;
use crate::aws::mocks;
use crate::cli::OutputFormat;
use crate::{fixtures, naming};

/// Tear down the shared site whose stack is gone and whose empty bucket answers HeadBucket with
/// `head_statuses` in turn (the last one repeatedly). Returns the outcome, the HeadBucket count,
/// the virtual time it took and the output.
async fn tear_down_with_head_bucket(
    head_statuses: &[u16],
) -> (anyhow::Result<TearDownResult>, usize, Duration, String) {
    let config = fixtures::shared_site();
    let deployment = naming::shared_deployment(&config).unwrap();
    let stack_gone = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_error(|| {
        DescribeStacksError::generic(
            ErrorMetadata::builder()
                .code("ValidationError")
                .message("Stack with id edge-prod-b001-us-west-1-s3-stack does not exist")
                .build(),
        )
    });
    let mut head = mock!(aws_sdk_s3::Client::head_bucket).sequence();
    for status in head_statuses {
        head = head.http_status(*status, None);
    }
    let head = head.repeatedly().build();
    let tags = mock!(aws_sdk_s3::Client::get_bucket_tagging).then_output(|| {
        GetBucketTaggingOutput::builder()
            .tag_set(
                aws_sdk_s3::types::Tag::builder()
                    .key(DEPLOYMENT_TAG)
                    .value("edge-prod-b001-us-west-1-s3")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    });
    let no_lock = mock!(aws_sdk_s3::Client::get_object_lock_configuration)
        .sequence()
        .http_status(
            404,
            Some("<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>Object Lock configuration does not exist for this bucket</Message></Error>".to_owned()),
        )
        .repeatedly()
        .build();
    let empty_listing = mock!(aws_sdk_s3::Client::list_object_versions).then_output(|| {
        ListObjectVersionsOutput::builder()
            .is_truncated(false)
            .build()
    });
    let no_uploads = mock!(aws_sdk_s3::Client::list_multipart_uploads).then_output(|| {
        ListMultipartUploadsOutput::builder()
            .is_truncated(false)
            .build()
    });
    let delete = mock!(aws_sdk_s3::Client::delete_bucket)
        .then_output(|| DeleteBucketOutput::builder().build());
    let aws = mocks::clients(
        &[&stack_gone],
        &[&head, &tags, &no_lock, &empty_listing, &no_uploads, &delete],
        &[],
    );
    let (mut out, captured) = fixtures::captured_output(OutputFormat::Text);
    let started = tokio::time::Instant::now();
    let settings = TearDownSettings::for_timeout(true, Duration::from_mins(1));
    let result = tear_down(&mut out, &aws, &deployment, settings).await;
    let waited = started.elapsed();
    assert_eq!(delete.num_calls(), 1);
    (
        result,
        head.num_calls(),
        waited,
        captured.stdout() + &captured.stderr(),
    )
}

#[tokio::test(start_paused = true)]
async fn a_deleted_bucket_that_still_answers_for_a_while_is_gone() {
    // Before the run, before DeleteBucket, then twice more after it: stale 200s, then 404.
    let (result, heads, waited, text) =
        tear_down_with_head_bucket(&[200, 200, 200, 200, 404]).await;
    let result = result.unwrap_or_else(|e| panic!("{e:#}\n{text}"));
    assert!(result.bucket_deleted);
    assert!(!result.nothing_to_do);
    assert_eq!(heads, 5);
    // Looked again after 1 s and 2 s.
    assert_eq!(waited, Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_bucket_that_keeps_answering_is_left_behind_by_name() {
    let (result, heads, waited, _) = tear_down_with_head_bucket(&[200]).await;
    let error = result.unwrap_err();
    assert_eq!(
        crate::exit::status_for_error(&error),
        crate::exit::ExitStatus::Failure
    );
    // Two looks before deleting, then the four of the re-check (1 + 2 + 4 s apart).
    assert_eq!(heads, 6);
    assert_eq!(waited, Duration::from_secs(7));
    insta::assert_snapshot!(format!("{error:#}"), @"tear-down finished but bucket edge-prod-b001-us-west-1-s3 still exist(s) after looking again for 7 s (S3 can still answer for a bucket deleted a moment ago); rerun the same command, and if it stays, check it in the AWS console");
}
