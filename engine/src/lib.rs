//! # spate-engine
//!
//! The Amazon States Language engine behind Spate: the ASL model, validation,
//! the compiled plan, JSONPath and payload templates, intrinsic functions, the
//! interpreter and the clock it runs on.

pub mod asl;
pub mod choice;
pub mod diagnostic;
pub mod error;
pub mod interp;
pub mod intrinsics;
pub mod jsonata;
pub mod limits;
pub mod path;
pub mod plan;
pub mod registry;
pub mod runtime;
pub mod task;
pub mod template;
pub mod time;
pub mod validate;
pub mod value;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use value::{Key, Map, Number, Str, Value};
