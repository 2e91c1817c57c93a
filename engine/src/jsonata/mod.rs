//! JSONata, the query and transformation language AWS Step Functions runs
//! for states with `"QueryLanguage": "JSONata"`, evaluated directly against
//! the engine's [`Value`].
//!
//! ```
//! use spate_engine::jsonata::{Jsonata, Limits, NoBindings};
//! use spate_engine::json;
//!
//! let expr = Jsonata::compile("Account.Order.Product[Price > 30].Description").unwrap();
//! let input = json!({"Account": {"Order": [{"Product": [
//!     {"Price": 34.45, "Description": "Hat"},
//!     {"Price": 21.67, "Description": "Scarf"}
//! ]}]}});
//! let out = expr.evaluate(Some(&input), &NoBindings, &Limits::default()).unwrap();
//! assert_eq!(out, Some(json!("Hat")));
//! ```
//!
//! The expression is parsed once ([`Jsonata::compile`]); evaluation walks
//! the compiled tree and shares sub-trees of the input instead of copying
//! them. Behaviour follows jsonata-js 2.x, including its error codes and
//! messages, plus the functions Step Functions adds (`$partition`, `$range`,
//! `$hash`, `$random(seed)`, `$uuid`, `$parse`).
//!
//! A result that is a function (or contains one) has no JSON form:
//! [`Jsonata::evaluate`] then fails with code [`FUNCTION_RESULT`]
//! (`"U2001"`), which Step Functions reports as an unsupported result type.

mod ast;
mod compile;
mod datetime;
mod error;
mod eval;
mod frame;
mod functions;
mod lexer;
mod limits;
mod numfmt;
mod parser;
mod pictures;
mod regex;
mod signature;
pub mod suite;
mod val;

pub use error::{FUNCTION_RESULT, JsonataError, LIMIT_EXCEEDED};
pub use frame::live_frames;
pub use limits::Limits;

use crate::value::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Variables supplied by the host (`$name` looks up `name`), such as ASL's
/// `$states` or workflow variables. Local bindings made by the expression
/// shadow them; they shadow the built-in functions.
pub trait Bindings {
    /// The value of variable `name` (without the `$`).
    fn lookup(&self, name: &str) -> Option<Value>;

    /// `true` when the built-in function `name` does not exist for this
    /// host (Step Functions has no `$eval`). Its name is then unbound, so
    /// calling it fails as calling any other non-function does.
    fn hides_function(&self, _name: &str) -> bool {
        false
    }

    /// When the host needs the evaluation to have ended (an execution's
    /// `TimeoutSeconds`); it stops there, as at its own time limit.
    fn deadline(&self) -> Option<std::time::Instant> {
        None
    }
}

/// No host variables.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBindings;

impl Bindings for NoBindings {
    fn lookup(&self, _: &str) -> Option<Value> {
        None
    }
}

impl Bindings for HashMap<String, Value> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

impl Bindings for Map {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

impl<B: Bindings + ?Sized> Bindings for &B {
    fn lookup(&self, name: &str) -> Option<Value> {
        (**self).lookup(name)
    }

    fn hides_function(&self, name: &str) -> bool {
        (**self).hides_function(name)
    }
}

/// A compiled JSONata expression: cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct Jsonata {
    inner: Arc<Compiled>,
}

struct Compiled {
    source: String,
    root: ast::Node,
}

impl std::fmt::Debug for Jsonata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Jsonata").field(&self.inner.source).finish()
    }
}

/// Parses and compiles source text (also used by `$eval`).
fn parse_and_compile(source: &str) -> error::Result<ast::Node> {
    compile::compile(parser::parse(source)?)
}

impl Jsonata {
    /// Parses an expression. Syntax errors have `S0xxx` codes.
    // The error carries jsonata-js's fields by design and is returned at
    // most once per call, so its size does not matter here.
    #[allow(clippy::result_large_err)]
    pub fn compile(source: &str) -> Result<Jsonata, JsonataError> {
        let root = parse_and_compile(source).map_err(|e| *e)?;
        Ok(Jsonata {
            inner: Arc::new(Compiled {
                source: source.to_string(),
                root,
            }),
        })
    }

    /// Evaluates against `input` (`None`: no input at all, which differs
    /// from JSON `null`). `Ok(None)` is JSONata's "nothing" (undefined).
    #[allow(clippy::result_large_err)]
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        bindings: &dyn Bindings,
        limits: &Limits,
    ) -> Result<Option<Value>, JsonataError> {
        let mut ev = eval::Evaluator::new(bindings, limits);
        let result = ev
            .run(&self.inner.root, input.cloned().map(val::Val::J))
            .map_err(|e| *e)?;
        result.to_value().map_err(|e| *e)
    }

    /// The source text the expression was compiled from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }
}

#[cfg(test)]
mod tests;
