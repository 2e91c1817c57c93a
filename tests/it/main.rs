//! Integration tests: one binary, one module per area.

mod admin;
mod api;
mod bench;
mod common;
mod conformance;
mod console;
mod console_page;
mod exec;
mod exec_log;
mod hostile_depth;
mod hostile_input;
mod hostile_jsonata;
mod jsonata_suite;
mod kafka;
mod prometheus;
mod run_api;
mod validate;
