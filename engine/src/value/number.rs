//! JSON numbers: an integer when the source had no fraction or exponent and
//! fits an `i64`, a double otherwise.

use std::cmp::Ordering;

/// A JSON number. Equality and ordering compare by value, so `Int(1)` equals
/// `Float(1.0)`; the variant only decides how the number is written back out.
#[derive(Clone, Copy, Debug)]
pub enum Number {
    /// An integer written without fraction or exponent.
    Int(i64),
    /// Any other number. Never NaN or infinite when it came from JSON text.
    Float(f64),
}

impl Number {
    /// An unsigned integer; values above `i64::MAX` become doubles.
    pub fn from_u64(n: u64) -> Number {
        match i64::try_from(n) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::Float(n as f64),
        }
    }

    /// The value as a double.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The value as an `i64` when it is a whole number in range
    /// (`2.0` gives `Some(2)`, `2.5` gives `None`).
    pub fn as_exact_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) => {
                if f.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f)
                {
                    Some(f as i64)
                } else {
                    None
                }
            }
        }
    }

    /// `true` for the integer variant (the source text had no fraction or exponent).
    pub fn is_int(self) -> bool {
        matches!(self, Number::Int(_))
    }

    /// `true` when the value has no fractional part.
    pub fn is_whole(self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
        }
    }

    /// Converts a `serde_json` number.
    pub fn from_serde(n: &serde_json::Number) -> Number {
        if let Some(i) = n.as_i64() {
            Number::Int(i)
        } else if let Some(u) = n.as_u64() {
            Number::from_u64(u)
        } else {
            Number::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    /// Converts to a `serde_json` number value (non-finite doubles become `null`).
    pub fn to_serde(self) -> serde_json::Value {
        match self {
            Number::Int(i) => serde_json::Value::from(i),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        match (*self, *other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (a, b) => a.as_f64() == b.as_f64(),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        match (*self, *other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::Int(i)
    }
}

impl From<f64> for Number {
    fn from(f: f64) -> Number {
        Number::Float(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_across_variants() {
        assert_eq!(Number::Int(1), Number::Float(1.0));
        assert!(Number::Int(1) < Number::Float(1.5));
        assert_eq!(Number::Int(i64::MAX), Number::Int(i64::MAX));
        assert_ne!(Number::Int(i64::MAX), Number::Int(i64::MAX - 1));
    }

    #[test]
    fn exact_integers() {
        assert_eq!(Number::Float(2.0).as_exact_i64(), Some(2));
        assert_eq!(Number::Float(2.5).as_exact_i64(), None);
        assert_eq!(Number::Float(1e300).as_exact_i64(), None);
        assert_eq!(Number::from_u64(u64::MAX).as_exact_i64(), None);
    }
}
