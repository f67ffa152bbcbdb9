//! One file per resource family of the template, each with its typed properties and a
//! pure constructor from the config and deployment.

mod access;
mod bucket;
mod lifecycle;
mod network;
mod ssm;

pub use access::*;
pub use bucket::*;
pub use lifecycle::*;
pub use network::*;
pub use ssm::*;
