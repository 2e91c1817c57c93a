//! The Amazon States Language document as the user wrote it: serde types
//! ([`model`]) and the loader that reports every structural problem ([`load`]).

mod json;
pub mod load;
pub mod model;

pub use load::parse_definition;
pub use model::*;
