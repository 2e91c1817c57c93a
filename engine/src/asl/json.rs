//! Definition text to raw [`Json`], refusing repeated object keys.
//!
//! `serde_json` keeps the last of two equal keys without a word, so a state
//! defined twice, or a field given twice, would silently lose one of them.
//! AWS refuses a definition whose state names repeat; Spate refuses any
//! repeated key in a definition, each reported with the JSON pointer of the
//! repetition. (Execution inputs keep the last key, as AWS's parser does:
//! see `value::parse`.)

use super::model::Json;
use crate::diagnostic::{Diagnostic, Pointer};
use crate::value::JsonParseError;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Map as JsonMap;
use std::cell::RefCell;
use std::fmt;

/// Parses definition text. `Err` holds a syntax error, or every repeated key.
pub fn parse(text: &str) -> Result<Json, Vec<Diagnostic>> {
    let repeated = RefCell::new(Vec::new());
    let mut reader = serde_json::Deserializer::from_str(text);
    let seed = Node {
        at: Pointer::root(),
        role: Role::Branch,
        repeated: &repeated,
    };
    let json = seed
        .deserialize(&mut reader)
        .and_then(|json| reader.end().map(|()| json))
        .map_err(|e| {
            let error = JsonParseError::from_serde(text.as_bytes(), &e);
            vec![
                Diagnostic::new("", error.to_string())
                    .with_code(crate::diagnostic::codes::INVALID_JSON_DESCRIPTION),
            ]
        })?;
    let repeated = repeated.into_inner();
    if repeated.is_empty() {
        Ok(json)
    } else {
        Err(repeated)
    }
}

/// A value at `at`; repeated keys found below it go to `repeated`.
struct Node<'a> {
    at: Pointer,
    role: Role,
    repeated: &'a RefCell<Vec<Diagnostic>>,
}

/// What a value is in the definition, as far as naming states goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The document, a Parallel branch or a Map's item processor: its
    /// `States` holds states by name.
    Branch,
    /// A `States` object: its keys are state names.
    StateMap,
    /// A state: its `Branches`, `ItemProcessor` and `Iterator` hold branches.
    State,
    /// A Parallel state's `Branches` array.
    Branches,
    /// Anything else.
    Other,
}

impl Node<'_> {
    fn child(&self, token: &str) -> Self {
        let role = match (self.role, token) {
            (Role::Branch, "States") => Role::StateMap,
            (Role::StateMap, _) => Role::State,
            (Role::State, "Branches") => Role::Branches,
            (Role::State, "ItemProcessor" | "Iterator") | (Role::Branches, _) => Role::Branch,
            _ => Role::Other,
        };
        Node {
            at: self.at.push(token),
            role,
            repeated: self.repeated,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::from(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&items.len().to_string()))? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = JsonMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.child(&key))?;
            if fields.contains_key(&key) {
                let message = if self.role == Role::StateMap {
                    format!("state name `{key}` is used twice (state names must be unique)")
                } else {
                    format!("key `{key}` is given twice in the same object")
                };
                let at = self.at.push(&key);
                self.repeated
                    .borrow_mut()
                    .push(Diagnostic::new(at.as_str(), message));
            }
            fields.insert(key, value);
        }
        Ok(Json::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reads_every_kind_of_value() {
        let text = r#"{"a":[1,-2,2.5,"s",true,null,{}],"b":18446744073709551615}"#;
        let expected: Json = serde_json::from_str(text).unwrap();
        assert_eq!(parse(text).unwrap(), expected);
    }

    #[test]
    fn numbers_read_as_execution_inputs_read_them() {
        // serde_json's default float parsing is off by one unit in the last
        // place for these (9e44 read as 9.000000000000002e44), so a Choice
        // rule comparing with the same number in the input did not match.
        for number in ["9e44", "5e35", "1.54e32", "5.8e82", "0.1", "1e-7"] {
            let json = parse(number).unwrap();
            let input = crate::value::parse_json_str(number).unwrap();
            assert_eq!(json.as_f64(), input.as_f64(), "{number}");
        }
    }

    #[test]
    fn repeated_state_names_and_keys_are_reported_where_they_repeat() {
        let found = problems(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","End":true},
                "B":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{
                    "X":{"Type":"Pass","End":true},
                    "X":{"Type":"Succeed"}}}]},
                "A":{"Type":"Pass","Next":"B","Next":"C"}}}"#,
        );
        assert_eq!(
            found,
            [
                "/States/B/Branches/0/States/X: state name `X` is used twice (state names must be unique)",
                "/States/A/Next: key `Next` is given twice in the same object",
                "/States/A: state name `A` is used twice (state names must be unique)",
            ]
        );
    }

    #[test]
    fn a_key_named_states_elsewhere_is_an_ordinary_key() {
        let found =
            problems(r#"{"States":{"P":{"Type":"Pass","Parameters":{"States":{"k":1,"k":2}}}}}"#);
        assert_eq!(
            found,
            ["/States/P/Parameters/States/k: key `k` is given twice in the same object"]
        );
    }
}
