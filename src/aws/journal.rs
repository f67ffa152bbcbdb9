//! What one run is doing in AWS right now, so that stopping early (Ctrl-C, `--timeout`) can clean
//! up what is safe and say exactly what state things are in.
//!
//! The deploying code records the step it is on, a change set it is about to create (before the
//! request goes out, so one abandoned mid-flight is still cleaned up), a stack operation it
//! started, progress counters and the command that resumes. Every client also carries a
//! [`JournalInterceptor`] that records each request in flight with its endpoint: when a run is
//! stopped while a request hangs, the message names the operation and the endpoint that did not
//! answer. The journal only records; what to do with it is the action layer's decision.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::cfn::ChangeSetKind;

/// One request that was sent and has not been answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// `service:Operation`, e.g. `sts:GetCallerIdentity`.
    pub operation: String,
    /// Scheme, host and port the request went to, e.g. `https://s3.us-west-1.amazonaws.com`.
    pub endpoint: String,
}

impl fmt::Display for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.operation, self.endpoint)
    }
}

/// A change set this run asked for and has not executed or deleted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChangeSet {
    /// The change-set name (chosen before the request is sent).
    pub name: String,
    pub stack_name: String,
    pub kind: ChangeSetKind,
    /// `ExecuteChangeSet` was sent: from here on the stack operation may be running.
    pub executing: bool,
}

/// A stack operation this run started, which continues in CloudFormation if the run stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOperation {
    pub stack_name: String,
    /// What is happening to it, e.g. `creation`, `update`, `deletion`.
    pub what: &'static str,
}

type ProgressFn = Arc<dyn Fn() -> String + Send + Sync>;

#[derive(Default)]
struct State {
    step: Option<String>,
    next_request: u64,
    in_flight: BTreeMap<u64, InFlight>,
    change_set: Option<PendingChangeSet>,
    stack_operation: Option<StackOperation>,
    progress: Option<ProgressFn>,
    resume: Option<String>,
    /// The last request per operation that failed to connect or timed out.
    unreachable: BTreeMap<String, InFlight>,
    /// The verified caller: account id and ARN.
    identity: Option<(String, String)>,
    /// Every operation sent so far (`service:Operation`), for the report's record of what the
    /// run asked of AWS (and the test that checks the IAM policy grants all of it).
    sent: BTreeSet<String>,
}

/// The run's record of what it is doing in AWS. Cheap to clone; clones share the record.
#[derive(Clone, Default)]
pub struct Journal {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Journal")
            .field("step", &state.step)
            .field("in_flight", &state.in_flight)
            .field("change_set", &state.change_set)
            .field("stack_operation", &state.stack_operation)
            .finish_non_exhaustive()
    }
}

/// What the journal holds at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// What the run was doing, in words (`computing the changes to stack X`).
    pub step: Option<String>,
    /// Requests sent and not answered.
    pub in_flight: Vec<InFlight>,
    pub change_set: Option<PendingChangeSet>,
    pub stack_operation: Option<StackOperation>,
    /// A progress line (`12 of 40 versions deleted`), when the step counts something.
    pub progress: Option<String>,
    /// The command that resumes, when the step set one.
    pub resume: Option<String>,
}

impl Journal {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The run is now doing `what` (lower-case words, e.g. `emptying bucket b`).
    pub fn step(&self, what: impl Into<String>) {
        let mut state = self.lock();
        state.step = Some(what.into());
        state.progress = None;
    }

    /// A change set named `name` is about to be requested for `stack_name`.
    pub fn change_set_requested(&self, name: &str, stack_name: &str, kind: ChangeSetKind) {
        self.lock().change_set = Some(PendingChangeSet {
            name: name.to_owned(),
            stack_name: stack_name.to_owned(),
            kind,
            executing: false,
        });
    }

    /// `ExecuteChangeSet` is about to be sent for the pending change set.
    pub fn change_set_executing(&self, what: &'static str) {
        let mut state = self.lock();
        if let Some(pending) = &mut state.change_set {
            pending.executing = true;
            state.stack_operation = Some(StackOperation {
                stack_name: pending.stack_name.clone(),
                what,
            });
        }
    }

    /// The pending change set was executed to the end or deleted: nothing to clean up.
    pub fn change_set_settled(&self) {
        let mut state = self.lock();
        state.change_set = None;
    }

    /// A stack operation (`what`: `deletion` …) on `stack_name` is about to start.
    pub fn stack_operation_started(&self, stack_name: &str, what: &'static str) {
        self.lock().stack_operation = Some(StackOperation {
            stack_name: stack_name.to_owned(),
            what,
        });
    }

    /// The stack operation has settled (finished, failed or rolled back).
    pub fn stack_operation_settled(&self) {
        self.lock().stack_operation = None;
    }

    /// A live progress line for the current step (read only when a stop is reported).
    pub fn progress(&self, line: impl Fn() -> String + Send + Sync + 'static) {
        self.lock().progress = Some(Arc::new(line));
    }

    /// The command that resumes (or undoes) this run, when it is not the same command again.
    pub fn set_resume(&self, command: impl Into<String>) {
        self.lock().resume = Some(command.into());
    }

    /// Everything recorded now.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        Snapshot {
            step: state.step.clone(),
            in_flight: state.in_flight.values().cloned().collect(),
            change_set: state.change_set.clone(),
            stack_operation: state.stack_operation.clone(),
            progress: state.progress.as_ref().map(|line| line()),
            resume: state.resume.clone(),
        }
    }

    fn request_sent(&self, request: InFlight) -> u64 {
        let mut state = self.lock();
        state.next_request += 1;
        let id = state.next_request;
        state.sent.insert(request.operation.clone());
        state.in_flight.insert(id, request);
        id
    }

    /// The endpoint a failed (unreachable or timed-out) `operation` went to, if one did.
    pub fn endpoint_of_last_failure(&self, operation: &str) -> Option<String> {
        self.lock()
            .unreachable
            .get(operation)
            .map(|request| request.endpoint.clone())
    }

    /// The account check passed: `account` is the caller's account, `arn` the caller.
    pub fn identity_verified(&self, account: &str, arn: &str) {
        self.lock().identity = Some((account.to_owned(), arn.to_owned()));
    }

    /// Every operation this run has sent (`service:Operation`, sorted, each once).
    pub fn operations_sent(&self) -> Vec<String> {
        self.lock().sent.iter().cloned().collect()
    }

    /// The verified caller (account id, ARN), once the account check has passed.
    pub fn identity(&self) -> Option<(String, String)> {
        self.lock().identity.clone()
    }

    fn request_answered(&self, id: u64, unreachable: bool) {
        let mut state = self.lock();
        if let Some(request) = state.in_flight.remove(&id)
            && unreachable
        {
            state.unreachable.insert(request.operation.clone(), request);
        }
    }
}

/// The request id the interceptor keeps in the request's config bag between its two hooks.
#[derive(Debug, Clone, Copy)]
struct InFlightId(u64);

impl Storable for InFlightId {
    type Storer = StoreReplace<Self>;
}

/// Records every request of a client in the run's [`Journal`] while it is in flight.
#[derive(Debug, Clone)]
pub struct JournalInterceptor {
    journal: Journal,
}

impl JournalInterceptor {
    /// An interceptor writing to `journal`.
    pub fn new(journal: Journal) -> Self {
        JournalInterceptor { journal }
    }
}

impl Intercept for JournalInterceptor {
    fn name(&self) -> &'static str {
        "s3-provisioner journal"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or_else(
            || "AWS request".to_owned(),
            |m| format!("{}:{}", m.service().to_ascii_lowercase(), m.name()),
        );
        let endpoint = endpoint_of(context.request().uri());
        let id = self.journal.request_sent(InFlight {
            operation,
            endpoint,
        });
        cfg.interceptor_state().store_put(InFlightId(id));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let unreachable = matches!(
            context.output_or_error(),
            Some(Err(error)) if error.is_timeout_error() || error.as_connector_error().is_some()
        );
        if let Some(InFlightId(id)) = cfg.load::<InFlightId>().copied() {
            self.journal.request_answered(id, unreachable);
        }
        Ok(())
    }
}

/// `scheme://host:port` of a request URI: where it went, without path or query (which may carry
/// object keys, never credentials, but are noise in a message).
pub fn endpoint_of(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?']).next().unwrap_or(rest);
            format!("{scheme}://{authority}")
        }
        None => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_scheme_host_and_port() {
        assert_eq!(
            endpoint_of("https://s3.us-west-1.amazonaws.com/bucket/key?x-id=PutObject"),
            "https://s3.us-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint_of("http://127.0.0.1:4566/"),
            "http://127.0.0.1:4566"
        );
        assert_eq!(
            endpoint_of("http://127.0.0.1:4566"),
            "http://127.0.0.1:4566"
        );
    }

    #[test]
    fn the_snapshot_shows_what_is_pending() {
        let journal = Journal::default();
        journal.step("computing the changes to stack s");
        journal.change_set_requested("cs-1", "s", ChangeSetKind::Create);
        let id = journal.request_sent(InFlight {
            operation: "cloudformation:CreateChangeSet".into(),
            endpoint: "http://127.0.0.1:9".into(),
        });
        let snapshot = journal.snapshot();
        assert_eq!(snapshot.in_flight.len(), 1);
        assert_eq!(snapshot.change_set.as_ref().unwrap().name, "cs-1");
        journal.request_answered(id, false);
        assert_eq!(
            journal.operations_sent(),
            ["cloudformation:CreateChangeSet"]
        );
        journal.change_set_executing("creation");
        let snapshot = journal.snapshot();
        assert!(snapshot.in_flight.is_empty());
        assert!(snapshot.change_set.unwrap().executing);
        assert_eq!(snapshot.stack_operation.unwrap().what, "creation");
        journal.change_set_settled();
        journal.stack_operation_settled();
        assert_eq!(journal.snapshot().change_set, None);
    }
}
