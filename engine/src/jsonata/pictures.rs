//! Picture strings for numbers: `$formatNumber` (XPath `format-number`),
//! `$formatInteger` and `$parseInteger` (XPath `format-integer`).

use super::error::{JsonataError, Result};
use super::val::Val;

/// `$formatNumber(x, picture, options)`.
pub(crate) fn format_number(_x: f64, _picture: &str, _options: &Val) -> Result<String> {
    Err(JsonataError::new("D3080"))
}

/// `$formatInteger(x, picture)`.
pub(crate) fn format_integer(_x: f64, _picture: &str) -> Result<String> {
    Err(JsonataError::new("D3130"))
}

/// `$parseInteger(s, picture)`.
pub(crate) fn parse_integer(_s: &str, _picture: &str) -> Result<Option<f64>> {
    Err(JsonataError::new("D3130"))
}
