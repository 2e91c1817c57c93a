//! How a JSONata expression is written in a definition: a string that is
//! `{% ... %}` and nothing else. Validation and compilation both read it
//! from here.

/// `true` when `text` is written as a JSONata expression: `{%` at the very
/// start and `%}` at the very end (no surrounding whitespace).
pub fn is_expression(text: &str) -> bool {
    text.len() >= 4 && text.starts_with("{%") && text.ends_with("%}")
}

/// The expression inside `{% ... %}`, without the surrounding blanks (the
/// text AWS quotes in its messages). `text` must satisfy [`is_expression`].
pub fn expression_body(text: &str) -> &str {
    text[2..text.len() - 2].trim()
}
