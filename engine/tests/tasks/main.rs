//! The real task integrations against small servers on 127.0.0.1: the HTTP
//! Task, Lambda through a fake Runtime Interface Emulator, native handlers,
//! and whole executions through them.

mod end_to_end;
mod http;
mod lambda;
mod native;
mod server;
