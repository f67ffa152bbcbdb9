//! Shared support for the integration test modules (`use crate::support;`): a local AWS (moto
//! server, [`moto::MotoServer`]), a tool working folder ([`moto::Workdir`]), a valid site config
//! ([`moto::site_config`]), a deployed test site ([`site`]) and read-backs of what exists
//! ([`inventory`]), and a binary pointed at a closed port ([`closed`]) to prove no AWS call is made, and JSON Schema
//! verdicts ([`schema`]). [`LocalAws`] is either moto or LocalStack ([`localstack`]), as
//! `S3P_EMULATOR` selects ([`emulator`]).

pub mod closed;
pub mod emulator;
pub mod inventory;
pub mod local;
pub mod localstack;
pub mod mocks;
pub mod moto;
pub mod schema;
pub mod server;
pub mod site;

pub use closed::{closed_port_command, tried_aws};
pub use emulator::{Emulator, LocalAws};
pub use inventory::{block_on, bucket_names, keys_under, live_stacks};
pub use moto::{MotoServer, Workdir, site_config};
pub use site::{Site, deploy_shared_site, shared_site};
