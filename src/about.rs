//! What the tool calls itself and which build this is, as recorded in templates, reports and the
//! completion scripts. A leaf: every layer may use it, it uses nothing of the crate.

/// Tool name, as recorded in templates and reports.
pub const TOOL: &str = "s3-provisioner";
/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
