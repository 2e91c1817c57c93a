//! The Amazon States Language document as the user wrote it: serde types
//! ([`model`]) and the loader that reports every structural problem ([`load`]).

mod expression;
mod json;
pub mod load;
pub mod model;

pub use expression::{expression_body, is_expression};

pub use load::parse_definition;
pub use model::*;
