//! State fields that evaluate to a number, an instant or a string:
//! `TimeoutSeconds`/`HeartbeatSeconds`, Wait times, Map counts, Fail fields.

use super::*;

impl Core {
    pub(super) fn fail_field(
        &self,
        field: Option<&FailField>,
        roots: &FieldRoots<'_>,
        bindings: Option<&StatesBindings<'_>>,
        name: &str,
    ) -> Result<Option<String>, StatesError> {
        let value = match field {
            None => return Ok(None),
            Some(FailField::Literal(s)) => return Ok(Some(s.to_string())),
            Some(FailField::Path(p)) => select(p, roots)?,
            Some(FailField::Call(call)) => call.eval(&PathsOf(roots))?,
            Some(FailField::Expr(t)) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                return Ok(Some(t.eval_string(name, b)?.to_string()));
            }
        };
        match &value {
            Value::String(s) => Ok(Some(s.to_string())),
            other => Ok(Some(other.to_json())),
        }
    }

    pub(super) fn seconds(
        &self,
        seconds: Option<&Amount>,
        roots: &FieldRoots<'_>,
        bindings: Option<&StatesBindings<'_>>,
        field: &str,
    ) -> Result<Option<Duration>, StatesError> {
        match seconds {
            None => Ok(None),
            Some(Amount::Fixed(n)) => Ok(Some(Duration::from_secs(*n))),
            Some(Amount::Path(p)) => {
                let value = select(p, roots)?;
                match value.as_i64() {
                    Some(n) if n > 0 => Ok(Some(Duration::from_secs(n as u64))),
                    _ => Err(StatesError::runtime(format!(
                        "The {field} field refers to value \"{}\" which is not a valid positive integer: {}",
                        text_of(&value),
                        p.source()
                    ))),
                }
            }
            Some(Amount::Expr(t)) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                let n = t.eval_integer(field, 1, b)?;
                Ok(Some(Duration::from_secs(n as u64)))
            }
        }
    }

    pub(super) fn wait_until(
        &self,
        exec: &ExecutionInfo,
        now: Timestamp,
        spec: &WaitSpec,
        input: &Value,
        bindings: Option<&StatesBindings<'_>>,
    ) -> Result<Timestamp, StatesError> {
        match spec {
            WaitSpec::Seconds(n) => Ok(now.plus(Duration::from_secs(*n))),
            WaitSpec::Timestamp(t) => Ok(*t),
            WaitSpec::SecondsPath(p) => {
                let value = select(p, &self.roots(exec, input))?;
                match value.as_number() {
                    Some(crate::value::Number::Int(n)) if n >= 0 => {
                        Ok(now.plus(Duration::from_secs(n as u64)))
                    }
                    Some(crate::value::Number::Int(_)) => Err(StatesError::runtime(format!(
                        "The SecondsPath parameter references a negative value: {} == {}",
                        p.source(),
                        text_of(&value)
                    ))),
                    _ => Err(StatesError::runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                        p.source(),
                        text_of(&value)
                    ))),
                }
            }
            WaitSpec::TimestampPath(p) => {
                let value = select(p, &self.roots(exec, input))?;
                value.as_str().and_then(Timestamp::parse).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        p.source(),
                        text_of(&value)
                    ))
                })
            }
            WaitSpec::SecondsExpr(t) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                let n = t.eval_integer("Seconds", 0, b)?;
                Ok(now.plus(Duration::from_secs(n as u64)))
            }
            WaitSpec::TimestampExpr(t) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                let value = t.eval(b)?;
                value.as_str().and_then(Timestamp::parse).ok_or_else(|| {
                    StatesError::query_evaluation(format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                        text_of(&value)
                    ))
                })
            }
        }
    }

    pub(super) fn count(
        &self,
        count: &Amount,
        roots: &FieldRoots<'_>,
        bindings: Option<&StatesBindings<'_>>,
        field: &str,
    ) -> Result<u64, StatesError> {
        match count {
            Amount::Fixed(n) => Ok(*n),
            Amount::Path(p) => {
                let value = select(p, roots)?;
                match integer_of(&value) {
                    Some(n) if n >= 0 => Ok(n as u64),
                    Some(_) => Err(StatesError::runtime(format!("{field} cannot be negative."))),
                    None => Err(StatesError::runtime(format!(
                        "The {field}Path field refers to value \"{}\" which is not a valid integer: {}",
                        text_of(&value),
                        p.source()
                    ))),
                }
            }
            Amount::Expr(t) => {
                let b = bindings.ok_or_else(not_jsonata)?;
                Ok(t.eval_integer(field, 0, b)? as u64)
            }
        }
    }
}
