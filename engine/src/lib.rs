//! # spate-engine
//!
//! The Amazon States Language engine behind Spate: the ASL model, validation,
//! the compiled plan, JSONPath and payload templates, intrinsic functions, the
//! interpreter and the clock it runs on.

pub mod jsonata;
pub mod value;

pub use value::{Map, Number, Str, Value};
