//! rudata: an open-data catalog server, wire-compatible with the udata API v1.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod fetch;
pub mod files;
pub mod generate;
pub mod hosts;
pub mod jobs;
pub mod metrics;
pub mod ops;
pub mod server;
pub mod state;
pub mod store;
pub mod web;
