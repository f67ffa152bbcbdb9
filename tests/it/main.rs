//! The integration tests, as one test crate: one module a topic, so the library and its
//! dependencies are linked into one test binary instead of one per file.
//!
//! Adding a test module: put the file at `tests/it/NAME.rs` (not `tests/NAME.rs`, which would be
//! a test binary of its own), add `mod NAME;` below (alphabetical), and reach the shared support
//! as `crate::support` (`use crate::support;`). Insta names a file snapshot after the module path,
//! so `insta::assert_snapshot!("x", …)` in `NAME` is `tests/it/snapshots/it__NAME__x.snap`.
//! Run one module with `scripts/test --test it -- NAME::`.
//!
//! All modules share one process: a test must not change process-wide state (environment
//! variables, the current directory, signal handlers) — pass settings to the child process or
//! client it builds instead — and every server a test needs is its own (see `support`).

mod support;

mod aws_errors;
mod cfn_lint;
mod cli;
mod cli_options;
mod completions;
mod concurrency;
mod config_corpus;
mod config_schema;
mod deploy_mocks;
mod deploy_moto;
mod deployment_record_moto;
mod dockerfile;
mod docs;
mod drift_in_sync;
mod drift_mocks;
mod drift_moto;
mod engine_states_mocks;
mod events_mocks;
mod eventual_consistency_mocks;
mod files;
mod moto_launcher;
mod moto_smoke;
mod parliament;
mod policy_coverage;
mod promises_moto;
mod replacement_mocks;
mod result_schema;
mod revert_drift_mocks;
mod revert_drift_moto;
mod roles_fleet;
mod roles_moto;
mod seed_guide_updates;
mod selection;
mod shard;
mod stops;
mod teardown_mocks;
mod teardown_moto;
mod teardown_seed_guide;
mod templates;
mod test_deploy_moto;
