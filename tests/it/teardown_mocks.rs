//! Emptying a bucket in situations an emulator does not produce, with aws-smithy-mocks: keys S3
//! throttles inside a DeleteObjects answer (retried), a whole request throttled (retried), keys it
//! refuses (reported with their version), and the listing marker held back across pages. No real
//! sleeping: the tests run on paused (virtual) tokio time with the production retry delays.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
use aws_sdk_s3::types::{DeleteMarkerEntry, Error as S3Error, ObjectVersion};
use aws_smithy_mocks::{Rule, mock};
use s3_provisioner::aws::empty::{Counters, EmptySettings, delete_all_versions};

use crate::support::mocks::{self, BUCKET};

type S3 = aws_sdk_s3::Client;

/// An S3 client answering from `rules`, with the SDK's own retries off: the module's retries are
/// under test.
fn s3(rules: &[&Rule]) -> S3 {
    mocks::s3(
        rules,
        Some(aws_sdk_s3::config::retry::RetryConfig::disabled()),
    )
}

fn settings() -> EmptySettings {
    EmptySettings {
        batches_in_flight: 4,
        attempts: 4,
        ..EmptySettings::default()
    }
}

fn version(key: &str, id: &str) -> ObjectVersion {
    ObjectVersion::builder().key(key).version_id(id).build()
}

/// One page holding three versions and a delete marker.
fn one_page() -> Rule {
    mock!(S3::list_object_versions).then_output(|| {
        ListObjectVersionsOutput::builder()
            .versions(version("a.csv", "va1"))
            .versions(version("a.csv", "va2"))
            .versions(version("b.csv", "vb1"))
            .delete_markers(
                DeleteMarkerEntry::builder()
                    .key("c.csv")
                    .version_id("mc1")
                    .build(),
            )
            .is_truncated(false)
            .build()
    })
}

fn error(key: &str, version_id: Option<&str>, code: &str, message: &str) -> S3Error {
    S3Error::builder()
        .key(key)
        .set_version_id(version_id.map(str::to_owned))
        .code(code)
        .message(message)
        .build()
}

/// The (key, version) pairs of every DeleteObjects request, in order.
type Requests = Arc<Mutex<Vec<Vec<(String, String)>>>>;

fn recorded(requests: &Requests, req: &aws_sdk_s3::operation::delete_objects::DeleteObjectsInput) {
    let keys = req
        .delete()
        .map(|d| {
            d.objects()
                .iter()
                .map(|o| (o.key().to_owned(), o.version_id().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    requests.lock().unwrap().push(keys);
}

async fn empty(client: &S3) -> (s3_provisioner::aws::empty::EmptyReport, usize) {
    let counters = Counters::default();
    let mut batches = 0;
    let mut on_batch = |_: &Counters| batches += 1;
    let report = delete_all_versions(client, BUCKET, settings(), &counters, &mut on_batch)
        .await
        .unwrap();
    (report, batches)
}

#[tokio::test(start_paused = true)]
async fn keys_throttled_inside_the_answer_are_retried() {
    let requests: Requests = Arc::default();
    let seen = Arc::clone(&requests);
    let delete = mock!(S3::delete_objects).then_compute_output(move |req| {
        recorded(&seen, req);
        let calls = seen.lock().unwrap().len();
        let output = DeleteObjectsOutput::builder();
        if calls == 1 {
            // S3 throttles two keys; the rest are deleted (Quiet mode lists only errors).
            output
                .errors(error(
                    "a.csv",
                    Some("va2"),
                    "SlowDown",
                    "Please reduce your request rate.",
                ))
                .errors(error(
                    "c.csv",
                    Some("mc1"),
                    "InternalError",
                    "We encountered an internal error.",
                ))
                .build()
        } else {
            output.build()
        }
    });
    let list = one_page();
    let client = s3(&[&list, &delete]);
    let (report, batches) = empty(&client).await;
    assert_eq!(report.listed, 4);
    assert_eq!(report.deleted, 4);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(batches, 1);
    let requests = requests.lock().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].len(), 4);
    assert_eq!(
        requests[1],
        [
            ("a.csv".to_owned(), "va2".to_owned()),
            ("c.csv".to_owned(), "mc1".to_owned())
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_throttled_request_is_retried_whole() {
    let throttled = mock!(S3::delete_objects)
        .sequence()
        .http_status(
            503,
            Some("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".to_owned()),
        )
        .output(|| DeleteObjectsOutput::builder().build())
        .build();
    let list = one_page();
    let client = s3(&[&list, &throttled]);
    let (report, _) = empty(&client).await;
    assert_eq!(report.deleted, 4);
    assert!(report.failures.is_empty());
    assert_eq!(throttled.num_calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn refused_keys_are_reported_with_their_version_and_never_retried() {
    let delete = mock!(S3::delete_objects).then_output(|| {
        DeleteObjectsOutput::builder()
            // Without a VersionId, as some S3 implementations answer: b.csv has one version in
            // the batch, so that is the one.
            .errors(error(
                "b.csv",
                None,
                "AccessDenied",
                "Access Denied because object protected by object lock.",
            ))
            .errors(error("a.csv", Some("va1"), "AccessDenied", "Access Denied"))
            .build()
    });
    let list = one_page();
    let client = s3(&[&list, &delete]);
    let (report, _) = empty(&client).await;
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(report.deleted, 2);
    let failures: Vec<(&str, Option<&str>, bool)> = report
        .failures
        .iter()
        .map(|f| (f.key.as_str(), f.version_id.as_deref(), f.is_object_lock()))
        .collect();
    assert_eq!(
        failures,
        [("a.csv", Some("va1"), false), ("b.csv", Some("vb1"), true)]
    );
}

#[tokio::test(start_paused = true)]
async fn keys_still_throttled_after_every_attempt_are_reported() {
    let delete = mock!(S3::delete_objects).then_output(|| {
        DeleteObjectsOutput::builder()
            .errors(error(
                "b.csv",
                Some("vb1"),
                "SlowDown",
                "Please reduce your request rate.",
            ))
            .build()
    });
    let list = one_page();
    let client = s3(&[&list, &delete]);
    let (report, _) = empty(&client).await;
    assert_eq!(delete.num_calls(), settings().attempts as usize);
    assert_eq!(report.deleted, 3);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].code, "SlowDown");
}

#[tokio::test(start_paused = true)]
async fn the_entry_a_page_ends_with_is_deleted_only_after_the_next_page_was_listed() {
    // Page 1 ends with b.csv/vb1 (the next page's marker); page 2 holds c.csv.
    let list = mock!(S3::list_object_versions).then_compute_output(|req| {
        let builder = ListObjectVersionsOutput::builder();
        match req.key_marker() {
            None => builder
                .versions(version("a.csv", "va1"))
                .versions(version("b.csv", "vb1"))
                .is_truncated(true)
                .next_key_marker("b.csv")
                .next_version_id_marker("vb1")
                .build(),
            Some(_) => builder
                .versions(version("c.csv", "vc1"))
                .is_truncated(false)
                .build(),
        }
    });
    let requests: Requests = Arc::default();
    let seen = Arc::clone(&requests);
    let delete = mock!(S3::delete_objects).then_compute_output(move |req| {
        recorded(&seen, req);
        DeleteObjectsOutput::builder().build()
    });
    let client = s3(&[&list, &delete]);
    let (report, batches) = empty(&client).await;
    assert_eq!((report.listed, report.deleted, batches), (3, 3, 2));
    let mut requests = requests.lock().unwrap().clone();
    requests.sort();
    assert_eq!(
        requests,
        [
            vec![("a.csv".to_owned(), "va1".to_owned())],
            vec![
                ("c.csv".to_owned(), "vc1".to_owned()),
                ("b.csv".to_owned(), "vb1".to_owned())
            ],
        ]
    );
}
