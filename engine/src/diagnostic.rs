//! Problems found in a definition, each tied to the JSON pointer of the field
//! at fault (`/States/Check/Choices/2/Next`).

use std::fmt;

/// One problem in a state machine definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// JSON pointer (RFC 6901) of the offending field; empty for the whole document.
    pub pointer: String,
    /// What is wrong, in lowercase without a trailing period.
    pub message: String,
    /// The code AWS's `ValidateStateMachineDefinition` gives this kind of
    /// problem (one of the `codes` constants).
    pub code: &'static str,
}

/// AWS's diagnostic codes (`ValidateStateMachineDefinition`), as far as
/// Spate tells its problems apart.
pub mod codes {
    /// The text is not JSON.
    pub const INVALID_JSON_DESCRIPTION: &str = "INVALID_JSON_DESCRIPTION";
    /// A `Next`, `StartAt` or `Default` names no state of its scope.
    pub const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
    /// Any other rule of the States Language.
    pub const SCHEMA_VALIDATION_FAILED: &str = "SCHEMA_VALIDATION_FAILED";
}

impl Diagnostic {
    /// A diagnostic at `pointer`, of AWS's `SCHEMA_VALIDATION_FAILED` kind.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            pointer: pointer.into(),
            message: message.into(),
            code: codes::SCHEMA_VALIDATION_FAILED,
        }
    }

    /// The same diagnostic with another AWS code.
    pub fn with_code(self, code: &'static str) -> Diagnostic {
        Diagnostic { code, ..self }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// Every problem found in a definition (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} problem{} in the definition:",
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.0 {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

/// Escapes one reference token of a JSON pointer (`~` and `/`).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Builds JSON pointers by appending tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    /// The document root.
    pub fn root() -> Pointer {
        Pointer(String::new())
    }

    /// This pointer with one more token (escaped).
    pub fn push(&self, token: impl fmt::Display) -> Pointer {
        Pointer(format!(
            "{}/{}",
            self.0,
            escape_pointer_token(&token.to_string())
        ))
    }

    /// The pointer text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_tokens() {
        let p = Pointer::root().push("States").push("a/b~c").push(2);
        assert_eq!(p.as_str(), "/States/a~1b~0c/2");
        assert_eq!(
            Diagnostic::new(p.as_str(), "bad").to_string(),
            "/States/a~1b~0c/2: bad"
        );
    }
}
