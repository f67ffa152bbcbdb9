//! The workflows the actions share, below them: each action file is an adapter that reads its
//! options, calls these, and shapes the result, so no action is a library for another and a change
//! to one workflow shows in every action that runs it.
//!
//! - [`engine`]: bring one deployment's stack to a template through a change set (prep-master,
//!   create-bucket, test-deploy), and its building blocks (ownership of a stack, watching stack
//!   events, waiting for an operation, deleting a stack, previewing a change set).
//! - [`markers`]: create a solution's missing folder markers (prep-master, create-bucket,
//!   deploy-solution, test-deploy).
//! - [`live_checks`]: compare the live bucket, markers and parameters with the template
//!   (check-drift, test-deploy).
//! - [`tear_down`]: empty and delete a deployment, stack and bucket (tear-down, test-deploy's
//!   cleanup).
//!
//! Workflows take the output, the AWS clients and the deployment, never the command line: what an
//! action's options mean is the action's business.

pub mod engine;
pub mod live_checks;
pub mod markers;
pub mod tear_down;
