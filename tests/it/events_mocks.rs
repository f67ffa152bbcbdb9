//! Stack events as CloudFormation really delivers them, with aws-smithy-mocks: newest first, a
//! few per page with `NextToken`, one operation's events spread over several pages, pages that
//! shift when an event arrives between two reads (so the last event of one page comes again at
//! the top of the next), and a failure reported per resource: the cause on the resource's own
//! `CREATE_FAILED` event, "Resource creation cancelled" on the others, and only a list of names
//! on the stack's own event. Paused (virtual) time: the production polling schedule runs in full.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackEvent, StackStatus, Tag};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::DateTime;
use s3_provisioner::aws::cfn::{self, ChangeSetHandle, ChangeSetKind, EventCursor};
use s3_provisioner::aws::{AwsClients, DEPLOYMENT_TAG};
use s3_provisioner::cli::OutputFormat;
use s3_provisioner::exit::{ExitStatus, status_for_error};
use s3_provisioner::ops::engine::{self, Waits};
use s3_provisioner::output::{Output, OutputSettings};

use crate::support::mocks::{self, STACK};

type Cfn = aws_sdk_cloudformation::Client;

const STACK_ID: &str =
    "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/new";
/// DescribeStackEvents returns up to 100 events a page; 3 here, so one operation spans pages.
const PAGE_SIZE: usize = 3;
/// What CloudFormation says on the bucket's own event when S3 refuses the creation.
const BUCKET_REASON: &str = "Resource handler returned message: \"Access Denied (Service: S3, Status Code: 403, Request ID: 7Y2N0J4QW5E6R7T8)\" (RequestToken: 9f1c, HandlerErrorCode: AccessDenied)";
const STACK_REASON: &str = "The following resource(s) failed to create: [Bucket, BucketPolicy]. Rollback requested by user.";

fn event(id: &str, logical: &str, status: ResourceStatus, reason: Option<&str>) -> StackEvent {
    let resource_type = match logical {
        STACK => "AWS::CloudFormation::Stack",
        "Bucket" => "AWS::S3::Bucket",
        _ => "AWS::S3::BucketPolicy",
    };
    StackEvent::builder()
        .event_id(id)
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .logical_resource_id(logical)
        .resource_type(resource_type)
        .resource_status(status)
        .set_resource_status_reason(reason.map(str::to_owned))
        .timestamp(DateTime::from_secs(1_767_225_600))
        .build()
}

/// The stack's event history as CloudFormation keeps it, and what arrives when.
struct History {
    /// Newest first, as DescribeStackEvents answers.
    events: Vec<StackEvent>,
    /// Events that arrive before the n-th first-page read (the first read is the cursor's start).
    batches: Vec<Vec<StackEvent>>,
    first_page_reads: usize,
    /// An event that arrives between the first and second page of one read.
    between_pages: Option<StackEvent>,
}

impl History {
    fn arrive(&mut self, event: StackEvent) {
        self.events.insert(0, event);
    }

    /// One DescribeStackEvents call; the token is the offset of the page (pages shift when an
    /// event arrives between two reads, as CloudFormation's do).
    fn page(&mut self, token: Option<&str>) -> DescribeStackEventsOutput {
        let offset = match token {
            None => {
                let batch = self
                    .batches
                    .get(self.first_page_reads)
                    .cloned()
                    .unwrap_or_default();
                self.first_page_reads += 1;
                for event in batch {
                    self.arrive(event);
                }
                0
            }
            Some(token) => {
                if let Some(event) = self.between_pages.take() {
                    self.arrive(event);
                }
                token.parse().unwrap()
            }
        };
        let end = (offset + PAGE_SIZE).min(self.events.len());
        DescribeStackEventsOutput::builder()
            .set_stack_events(Some(self.events[offset..end].to_vec()))
            .set_next_token((end < self.events.len()).then(|| end.to_string()))
            .build()
    }

    fn settled(&self) -> bool {
        self.events
            .iter()
            .any(|e| e.resource_status() == Some(&ResourceStatus::RollbackComplete))
    }
}

/// A first creation whose bucket S3 refuses: the previous operation's events (`o1`, `o2`),
/// then `e1`..`e7` in one read (over three pages, `e8` arriving between the first two), then
/// the rollback's end (`e9`).
fn failed_creation() -> Arc<Mutex<History>> {
    use ResourceStatus as S;
    Arc::new(Mutex::new(History {
        events: vec![
            event(
                "o2",
                STACK,
                S::from("REVIEW_IN_PROGRESS"),
                Some("User Initiated"),
            ),
            event("o1", STACK, S::from("REVIEW_IN_PROGRESS"), None),
        ],
        batches: vec![
            vec![],
            vec![
                event("e1", STACK, S::CreateInProgress, Some("User Initiated")),
                event("e2", "Bucket", S::CreateInProgress, None),
                event(
                    "e3",
                    "Bucket",
                    S::CreateInProgress,
                    Some("Resource creation Initiated"),
                ),
                event("e4", "BucketPolicy", S::CreateInProgress, None),
                event("e5", "Bucket", S::CreateFailed, Some(BUCKET_REASON)),
                event(
                    "e6",
                    "BucketPolicy",
                    S::CreateFailed,
                    Some("Resource creation cancelled"),
                ),
                event("e7", STACK, S::RollbackInProgress, Some(STACK_REASON)),
            ],
            vec![event("e9", STACK, S::RollbackComplete, None)],
        ],
        first_page_reads: 0,
        between_pages: Some(event("e8", "Bucket", S::DeleteComplete, None)),
    }))
}

fn rules(history: &Arc<Mutex<History>>) -> (Rule, Rule, Rule) {
    let pages = Arc::clone(history);
    let events = mock!(Cfn::describe_stack_events)
        .then_compute_output(move |input| pages.lock().unwrap().page(input.next_token()));
    let status = Arc::clone(history);
    let describe = mock!(Cfn::describe_stacks).then_compute_output(move |_| {
        let (stack_status, reason) = if status.lock().unwrap().settled() {
            (StackStatus::RollbackComplete, STACK_REASON)
        } else {
            (StackStatus::RollbackInProgress, STACK_REASON)
        };
        DescribeStacksOutput::builder()
            .stacks(
                Stack::builder()
                    .stack_id(STACK_ID)
                    .stack_name(STACK)
                    .stack_status(stack_status)
                    .stack_status_reason(reason)
                    .creation_time(DateTime::from_secs(1_767_225_600))
                    .tags(Tag::builder().key(DEPLOYMENT_TAG).value(STACK).build())
                    .build(),
            )
            .build()
    });
    let execute =
        mock!(Cfn::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build());
    (events, describe, execute)
}

/// The tool's clients: CloudFormation answering from `rules`, the others answering nothing.
fn clients(rules: &[&Rule]) -> AwsClients {
    mocks::clients(mocks::cfn(rules, None), mocks::s3(&[], None))
}

fn ids(events: &[cfn::StackEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_id.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn events_over_shifting_pages_are_each_reported_once_oldest_first() {
    let history = failed_creation();
    let (events, _, _) = rules(&history);
    let aws = clients(&[&events]);
    let mut cursor = EventCursor::after_latest(&aws.cfn, STACK_ID).await.unwrap();

    let first = cfn::stream_events(&aws.cfn, &mut cursor).await.unwrap();
    // Three pages: [e7 e6 e5], then (e8 arrived) [e5 e4 e3], then [e2 e1 o2]; it stops at o2.
    assert_eq!(ids(&first), ["e1", "e2", "e3", "e4", "e5", "e6", "e7"]);
    assert_eq!(events.num_calls(), 4);

    let second = cfn::stream_events(&aws.cfn, &mut cursor).await.unwrap();
    assert_eq!(ids(&second), ["e8", "e9"]);
    assert_eq!(
        ids(&cursor.seen),
        ["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"]
    );
    let cause = cursor.root_cause().expect("a failed resource");
    assert_eq!(cause.logical_id, "Bucket");
    assert_eq!(cause.reason.as_deref(), Some(BUCKET_REASON));
}

#[tokio::test(start_paused = true)]
async fn a_failed_creation_names_the_failed_resource_and_its_own_reason() {
    let history = failed_creation();
    let (events, describe, execute) = rules(&history);
    let aws = clients(&[&events, &describe, &execute]);
    let (mut out, captured) = Output::captured(OutputSettings {
        format: OutputFormat::Text,
        no_color: true,
        quiet: false,
        verbose: 0,
    });
    let handle = ChangeSetHandle {
        id: "arn:aws:cloudformation:us-west-1:123456789012:changeSet/s3-provisioner-1/abc".into(),
        stack_id: STACK_ID.into(),
        stack_name: STACK.into(),
        kind: ChangeSetKind::Create,
        drift_aware: false,
    };
    let error = engine::execute_and_watch(
        &mut out,
        &aws,
        &handle,
        Waits::for_timeout(Duration::from_mins(5)).stack,
    )
    .await
    .unwrap_err();
    let message = format!("{error:#}");
    assert_eq!(status_for_error(&error), ExitStatus::Failure, "{message}");
    assert!(message.contains("it is now ROLLBACK_COMPLETE"), "{message}");
    assert!(
        message.contains(&format!(
            "Bucket (AWS::S3::Bucket) CREATE_FAILED: {BUCKET_REASON}"
        )),
        "the cause, from the bucket's own event: {message}"
    );
    assert!(
        !message.contains("Resource creation cancelled"),
        "{message}"
    );
    // Each event is shown once: the one repeated across a page boundary too.
    let stderr = captured.stderr();
    assert_eq!(
        stderr
            .matches(&format!("CREATE_FAILED  {BUCKET_REASON}"))
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(execute.num_calls(), 1);
}
