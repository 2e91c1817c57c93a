//! Errors raised while compiling or evaluating a JSONata expression.
//!
//! Codes and message texts follow jsonata-js: `S0xxx` for syntax errors found
//! at compile time, `T0xxx`/`T1xxx`/`T2xxx` for type errors, `D1xxx`-`D3xxx`
//! for dynamic errors, `U1001` when an evaluation limit is exceeded. A message
//! template may refer to `{{token}}`, `{{value}}` (written as JSON, like
//! `JSON.stringify`) and a few other fields; [`JsonataError::new`] fills them in.

use crate::value::Value;
use std::fmt;

/// A failed compilation or evaluation.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct JsonataError {
    /// The jsonata-js error code, e.g. `"S0202"`, `"T2001"`, `"D3030"`.
    pub code: &'static str,
    /// The human-readable message (jsonata-js wording).
    pub message: String,
    /// Character offset in the expression source that the error refers to.
    pub position: Option<usize>,
    /// The token (operator, function name, ...) the error refers to.
    pub token: Option<String>,
    /// The value the error refers to, when it is plain JSON.
    pub value: Option<Value>,
    /// The function that raised the error, where jsonata-js names one.
    pub function_name: Option<String>,
    /// Further message fields (`index`, `type`, `value2`, `exp`).
    extras: Vec<(&'static str, String)>,
}

impl fmt::Display for JsonataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(pos) = self.position {
            write!(f, " (at position {pos})")?;
        }
        Ok(())
    }
}

/// The code of the error returned when the result of an evaluation is a
/// function (or contains one), which has no JSON representation.
pub const FUNCTION_RESULT: &str = "U2001";

/// The code of the errors raised when an evaluation limit is exceeded.
pub const LIMIT_EXCEEDED: &str = "U1001";

impl JsonataError {
    /// An error with the standard message of `code`, without details.
    /// Errors travel boxed inside the evaluator so results stay small.
    pub fn new(code: &'static str) -> Box<JsonataError> {
        Box::new(JsonataError {
            code,
            message: String::new(),
            position: None,
            token: None,
            value: None,
            function_name: None,
            extras: Vec::new(),
        })
        .with_message()
    }

    /// An error with an explicit message (for `$error`, `$assert`, limits).
    pub fn with_text(code: &'static str, message: impl Into<String>) -> Box<JsonataError> {
        Box::new(JsonataError {
            code,
            message: message.into(),
            position: None,
            token: None,
            value: None,
            function_name: None,
            extras: Vec::new(),
        })
    }

    /// Sets the position.
    pub fn at(mut self: Box<Self>, position: usize) -> Box<JsonataError> {
        self.position = Some(position);
        self
    }

    /// Sets the position unless one is set already.
    pub fn or_at(mut self: Box<Self>, position: usize) -> Box<JsonataError> {
        self.position.get_or_insert(position);
        self
    }

    /// Sets the token and rebuilds the message.
    pub fn token(mut self: Box<Self>, token: impl Into<String>) -> Box<JsonataError> {
        self.token = Some(token.into());
        self.with_message()
    }

    /// Sets the token (and rebuilds the message) unless one is set already.
    pub fn or_token(self: Box<Self>, token: &str) -> Box<JsonataError> {
        if self.token.is_some() {
            self
        } else {
            self.token(token)
        }
    }

    /// Sets the value and rebuilds the message.
    pub fn value(mut self: Box<Self>, value: impl Into<Option<Value>>) -> Box<JsonataError> {
        self.value = value.into();
        self.with_message()
    }

    /// Sets the function name and rebuilds the message.
    pub fn function(mut self: Box<Self>, name: impl Into<String>) -> Box<JsonataError> {
        self.function_name = Some(name.into());
        self.with_message()
    }

    /// Sets a further message field (`index`, `type`, `value2`, `exp`),
    /// already formatted, and rebuilds the message.
    pub fn extra(
        mut self: Box<Self>,
        name: &'static str,
        text: impl Into<String>,
    ) -> Box<JsonataError> {
        self.extras.retain(|(n, _)| *n != name);
        self.extras.push((name, text.into()));
        self.with_message()
    }

    fn with_message(mut self: Box<Self>) -> Box<JsonataError> {
        let Some(template) = template(self.code) else {
            return self;
        };
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let (raw, inner_start) = if after.starts_with("{{{") {
                (true, 3)
            } else {
                (false, 2)
            };
            let Some(end) = after[inner_start..].find('}') else {
                out.push_str(after);
                rest = "";
                break;
            };
            let field = &after[inner_start..inner_start + end];
            let close = inner_start + end + if raw { 3 } else { 2 };
            match self.field(field, raw) {
                Some(text) => out.push_str(&text),
                // unknown until filled in by `extra`
                None => out.push_str(&after[..close]),
            }
            rest = &after[close..];
        }
        out.push_str(rest);
        self.message = out;
        self
    }

    fn field(&self, field: &str, raw: bool) -> Option<String> {
        let quote = |s: &str| {
            if raw {
                s.to_string()
            } else {
                Value::from(s).to_json()
            }
        };
        match field {
            "token" => Some(match &self.token {
                Some(t) => quote(t),
                None => {
                    if raw {
                        String::new()
                    } else {
                        "undefined".to_string()
                    }
                }
            }),
            "value" => Some(match &self.value {
                Some(v) => match (raw, v) {
                    (true, Value::String(s)) => s.to_string(),
                    _ => crate::jsonata::numfmt::stringify(v),
                },
                None => "undefined".to_string(),
            }),
            "functionName" => self.function_name.as_deref().map(quote),
            _ => self
                .extras
                .iter()
                .find(|(n, _)| *n == field)
                .map(|(_, t)| t.clone()),
        }
    }
}

/// The message template of a code (jsonata-js wording).
fn template(code: &str) -> Option<&'static str> {
    Some(match code {
        "S0101" => "String literal must be terminated by a matching quote",
        "S0102" => "Number out of range: {{token}}",
        "S0103" => "Unsupported escape sequence: \\{{{token}}}",
        "S0104" => "The escape sequence \\u must be followed by 4 hex digits",
        "S0105" => "Quoted property name must be terminated with a backquote (`)",
        "S0106" => "Comment has no closing tag",
        "S0201" => "Syntax error: {{token}}",
        "S0202" => "Expected {{value}}, got {{token}}",
        "S0203" => "Expected {{value}} before end of expression",
        "S0204" => "Unknown operator: {{token}}",
        "S0205" => "Unexpected token: {{token}}",
        "S0207" => "Unexpected end of expression",
        "S0208" => {
            "Parameter {{value}} of function definition must be a variable name (start with $)"
        }
        "S0209" => "A predicate cannot follow a grouping expression in a step",
        "S0210" => "Each step can only have one grouping expression",
        "S0211" => "The symbol {{token}} cannot be used as a unary operator",
        "S0212" => "The left side of := must be a variable name (start with $)",
        "S0213" => "The literal value {{value}} cannot be used as a step within a path expression",
        "S0214" => "The right side of {{token}} must be a variable name (start with $)",
        "S0215" => "A context variable binding must precede any predicates on a step",
        "S0216" => "A context variable binding must precede the 'order-by' clause on a step",
        "S0217" => "The object representing the 'parent' cannot be derived from this expression",
        "S0301" => "Empty regular expressions are not allowed",
        "S0302" => "No terminating / in regular expression",
        "S0303" => "Invalid regular expression: {{{token}}}",
        "S0401" => "Type parameters can only be applied to functions and arrays",
        "S0402" => "Choice groups containing parameterized types are not supported",
        "T0410" => "Argument {{index}} of function {{token}} does not match function signature",
        "T0411" => {
            "Context value is not a compatible type with argument {{index}} of function {{token}}"
        }
        "T0412" => "Argument {{index}} of function {{token}} must be an array of {{type}}",
        "D1001" => "Number out of range: {{value}}",
        "D1002" => "Cannot negate a non-numeric value: {{value}}",
        "T1003" => "Key in object structure must evaluate to a string; got: {{value}}",
        "D1004" => "Regular expression matches zero length string",
        "T1005" => "Attempted to invoke a non-function. Did you mean ${{{token}}}?",
        "T1006" => "Attempted to invoke a non-function",
        "T1007" => "Attempted to partially apply a non-function. Did you mean ${{{token}}}?",
        "T1008" => "Attempted to partially apply a non-function",
        "D1009" => "Multiple key definitions evaluate to same key: {{value}}",
        "T1010" => {
            "The matcher function argument passed to function {{token}} does not return the correct object structure"
        }
        "T2001" => "The left side of the {{token}} operator must evaluate to a number",
        "T2002" => "The right side of the {{token}} operator must evaluate to a number",
        "T2003" => "The left side of the range operator (..) must evaluate to an integer",
        "T2004" => "The right side of the range operator (..) must evaluate to an integer",
        "T2006" => "The right side of the function application operator ~> must be a function",
        "T2007" => {
            "Type mismatch when comparing values {{value}} and {{value2}} in order-by clause"
        }
        "T2008" => {
            "The expressions within an order-by clause must evaluate to numeric or string values"
        }
        "T2009" => {
            "The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type"
        }
        "T2010" => {
            "The expressions either side of operator {{token}} must evaluate to numeric or string values"
        }
        "T2011" => {
            "The insert/update clause of the transform expression must evaluate to an object: {{value}}"
        }
        "T2012" => {
            "The delete clause of the transform expression must evaluate to a string or array of strings: {{value}}"
        }
        "D2014" => {
            "The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {{value}}."
        }
        "D3001" => "Attempting to invoke string function on Infinity or NaN",
        "D3010" => "Second argument of replace function cannot be an empty string",
        "D3011" => "Fourth argument of replace function must evaluate to a positive number",
        "D3012" => "Attempted to replace a matched string with a non-string value",
        "D3020" => "Third argument of split function must evaluate to a positive number",
        "D3030" => "Unable to cast value to a number: {{value}}",
        "D3040" => "Third argument of match function must evaluate to a positive number",
        "D3050" => {
            "The second argument of reduce function must be a function with at least two arguments"
        }
        "D3060" => "The sqrt function cannot be applied to a negative number: {{value}}",
        "D3061" => {
            "The power function has resulted in a value that cannot be represented as a JSON number: base={{value}}, exponent={{exp}}"
        }
        "D3070" => {
            "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function"
        }
        "D3080" => "The picture string must only contain a maximum of two sub-pictures",
        "D3081" => {
            "The sub-picture must not contain more than one instance of the 'decimal-separator' character"
        }
        "D3082" => {
            "The sub-picture must not contain more than one instance of the 'percent' character"
        }
        "D3083" => {
            "The sub-picture must not contain more than one instance of the 'per-mille' character"
        }
        "D3084" => "The sub-picture must not contain both a 'percent' and a 'per-mille' character",
        "D3085" => {
            "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'"
        }
        "D3086" => {
            "The sub-picture must not contain a passive character that is preceded by an active character and that is followed by another active character"
        }
        "D3087" => {
            "The sub-picture must not contain a 'grouping-separator' character that appears adjacent to a 'decimal-separator' character"
        }
        "D3088" => {
            "The sub-picture must not contain a 'grouping-separator' at the end of the integer part"
        }
        "D3089" => {
            "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character"
        }
        "D3090" => {
            "The integer part of the sub-picture must not contain a member of the 'decimal digit family' that is followed by an instance of the 'optional digit character'"
        }
        "D3091" => {
            "The fractional part of the sub-picture must not contain an instance of the 'optional digit character' that is followed by a member of the 'decimal digit family'"
        }
        "D3092" => {
            "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a character treated as an 'exponent-separator'"
        }
        "D3093" => {
            "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'"
        }
        "D3100" => {
            "The radix of the formatBase function must be between 2 and 36.  It was given {{value}}"
        }
        "D3110" => {
            "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {{value}}"
        }
        "D3120" => "Syntax error in expression passed to function eval: {{value}}",
        "D3121" => "Dynamic error evaluating the expression passed to function eval: {{value}}",
        "D3130" => {
            "Formatting or parsing an integer as a sequence starting with {{value}} is not supported by this implementation"
        }
        "D3131" => "In a decimal digit pattern, all digits must be from the same decimal group",
        "D3132" => "Unknown component specifier {{value}} in date/time picture string",
        "D3133" => {
            "The 'name' modifier can only be applied to months and days in the date/time picture string, not {{value}}"
        }
        "D3134" => "The timezone integer format specifier cannot have more than four digits",
        "D3135" => "No matching closing bracket ']' in date/time picture string",
        "D3136" => {
            "The date/time picture string is missing specifiers required to parse the timestamp"
        }
        "D3138" => {
            "The $single() function expected exactly 1 matching result.  Instead it matched more."
        }
        "D3139" => {
            "The $single() function expected exactly 1 matching result.  Instead it matched 0."
        }
        "D3140" => "Malformed URL passed to ${{{functionName}}}(): {{value}}",
        FUNCTION_RESULT => {
            "The expression evaluated to a function, which has no JSON representation"
        }
        _ => return None,
    })
}

/// Results inside the compiler and evaluator: the error is boxed, which
/// keeps every `Result` (and so every stack frame holding one) small.
pub(crate) type Result<T> = std::result::Result<T, Box<JsonataError>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quote_tokens_and_values() {
        let e = JsonataError::new("S0202")
            .token(")")
            .value(Value::from("]"));
        assert_eq!(e.message, r#"Expected "]", got ")""#);
        let e = JsonataError::new("T1005").token("sum");
        assert_eq!(
            e.message,
            "Attempted to invoke a non-function. Did you mean $sum?"
        );
        let e = JsonataError::new("D3140")
            .function("decodeUrl")
            .value(Value::from("%E0"));
        assert_eq!(e.message, r#"Malformed URL passed to $decodeUrl(): "%E0""#);
        let e = JsonataError::new("T0410").token("min").extra("index", "1");
        assert_eq!(
            e.message,
            r#"Argument 1 of function "min" does not match function signature"#
        );
        assert_eq!(e.to_string(), format!("T0410: {}", e.message));
    }
}
