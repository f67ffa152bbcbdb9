//! Shared support for integration tests (`mod support;` in a test crate): a local AWS (moto
//! server, [`moto::MotoServer`]), a tool working folder ([`moto::Workdir`]) and a valid site config
//! ([`moto::site_config`]). Each test crate uses only part of it, hence `dead_code` is allowed.
#![allow(dead_code, unused_imports)]

pub mod moto;

pub use moto::{MotoServer, Workdir, site_config};
