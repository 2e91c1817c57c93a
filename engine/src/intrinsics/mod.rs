//! The 18 intrinsic functions of JSONPath states (`States.Format(...)`,
//! `States.ArrayPartition(...)`, ...), parsed once into a call tree whose
//! arity is checked at compile time, and evaluated against a
//! [`PathResolver`] that supplies the values of the path arguments.
//!
//! The functions themselves are one table ([`functions::FUNCTIONS`]):
//! name, arity, and the function, grouped by family.

mod functions;
mod parse;

use crate::error::StatesError;
use crate::path::Path;
use crate::value::Value;

pub use functions::Function;
pub use parse::IntrinsicSyntaxError;

/// AWS's limit on nested intrinsic calls in one field.
pub const MAX_NESTING: usize = 10;

/// Supplies the value a path argument refers to.
pub trait PathResolver {
    /// The value at `path`, or the `States.Runtime` error AWS raises when a
    /// path selects nothing.
    fn resolve(&self, path: &Path) -> Result<Value, StatesError>;
}

/// A parsed intrinsic call, e.g. `States.Format('{} items', $.count)`.
#[derive(Debug, Clone)]
pub struct Intrinsic {
    function: Function,
    args: Vec<Arg>,
}

/// One argument of an intrinsic call.
#[derive(Debug, Clone)]
pub enum Arg {
    /// A literal: `'text'`, a number, `true`, `false` or `null`.
    Literal(Value),
    /// A path: `$.a`, `$$.Execution.Id`, `$var`.
    Path(Path),
    /// A nested call.
    Call(Box<Intrinsic>),
}

impl Intrinsic {
    /// Parses a call. Checks the function name, the argument count and the
    /// nesting depth.
    pub fn parse(source: &str) -> Result<Intrinsic, IntrinsicSyntaxError> {
        parse::parse(source)
    }

    /// `true` when `text` looks like an intrinsic call (`States.` prefix),
    /// as opposed to a path.
    pub fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// The function called.
    pub fn function(&self) -> Function {
        self.function
    }

    /// The arguments.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Every path used in the call, nested calls included.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        for arg in &self.args {
            match arg {
                Arg::Path(p) => out.push(p),
                Arg::Call(c) => out.extend(c.paths()),
                Arg::Literal(_) => {}
            }
        }
        out
    }

    /// Evaluates the call. Failures are `States.IntrinsicFailure` (or the
    /// resolver's error for a missing path).
    pub fn eval(&self, resolver: &dyn PathResolver) -> Result<Value, StatesError> {
        // Most calls take a few arguments: evaluate them into a stack array,
        // falling back to the heap only for long argument lists.
        const ON_STACK: usize = 4;
        if self.args.len() <= ON_STACK {
            let mut values: [Value; ON_STACK] = Default::default();
            for (slot, arg) in values.iter_mut().zip(&self.args) {
                *slot = self.arg_value(arg, resolver)?;
            }
            return functions::call(self.function, &values[..self.args.len()]);
        }
        let values = self
            .args
            .iter()
            .map(|arg| self.arg_value(arg, resolver))
            .collect::<Result<Vec<_>, _>>()?;
        functions::call(self.function, &values)
    }

    fn arg_value(&self, arg: &Arg, resolver: &dyn PathResolver) -> Result<Value, StatesError> {
        match arg {
            Arg::Literal(v) => Ok(v.clone()),
            Arg::Path(p) => resolver.resolve(p),
            Arg::Call(c) => c.eval(resolver),
        }
    }
}

#[cfg(test)]
mod tests;
