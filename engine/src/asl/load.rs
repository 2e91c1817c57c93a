//! JSON text to the [`StateMachine`] model, reporting every structural
//! problem (bad JSON, unknown or mistyped fields, unknown state types) with the
//! JSON pointer of the field at fault.
//!
//! Each state is deserialized on its own, so one broken state does not hide
//! the problems of the others; nested state maps (`Branches`, `ItemProcessor`)
//! are walked here rather than by serde for the same reason.

use super::model::*;
use crate::diagnostic::{Diagnostic, Diagnostics, Pointer};
use serde::de::DeserializeOwned;
use serde_json::Map as JsonMap;

use crate::limits::DEFINITION_BYTES as MAX_DEFINITION_BYTES;

/// Parses a definition. Errors list every structural problem found.
pub fn parse_definition(text: &str) -> Result<StateMachine, Diagnostics> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(Diagnostics(vec![Diagnostic::new(
            "",
            format!(
                "the definition is {} bytes, above the limit of {MAX_DEFINITION_BYTES} bytes",
                text.len()
            ),
        )]));
    }
    let json = super::json::parse(text).map_err(Diagnostics)?;
    from_json(&json)
}

/// Builds the model from an already parsed JSON document.
pub fn from_json(json: &Json) -> Result<StateMachine, Diagnostics> {
    let mut loader = Loader::default();
    let machine = loader.state_machine(json);
    if loader.problems.is_empty() {
        Ok(machine)
    } else {
        Err(Diagnostics(loader.problems))
    }
}

#[derive(Default)]
struct Loader {
    problems: Vec<Diagnostic>,
}

impl Loader {
    fn problem(&mut self, at: &Pointer, message: impl Into<String>) {
        self.problems.push(Diagnostic::new(at.as_str(), message));
    }

    fn object<'a>(
        &mut self,
        json: &'a Json,
        at: &Pointer,
        what: &str,
    ) -> Option<&'a JsonMap<String, Json>> {
        match json {
            Json::Object(map) => Some(map),
            other => {
                self.problem(
                    at,
                    format!("{what} must be a JSON object, found {}", json_type(other)),
                );
                None
            }
        }
    }

    fn string_field(
        &mut self,
        map: &JsonMap<String, Json>,
        key: &str,
        at: &Pointer,
    ) -> Option<String> {
        match map.get(key)? {
            Json::String(s) => Some(s.clone()),
            other => {
                self.problem(
                    &at.push(key),
                    format!("{key} must be a string, found {}", json_type(other)),
                );
                None
            }
        }
    }

    fn unknown_fields(&mut self, map: &JsonMap<String, Json>, allowed: &[&str], at: &Pointer) {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.problem(&at.push(key), format!("unknown field `{key}`"));
            }
        }
    }

    fn state_machine(&mut self, json: &Json) -> StateMachine {
        let root = Pointer::root();
        let mut machine = StateMachine {
            comment: None,
            start_at: String::new(),
            states: Vec::new(),
            version: None,
            timeout_seconds: None,
            query_language: None,
        };
        let Some(map) = self.object(json, &root, "the definition") else {
            return machine;
        };
        self.unknown_fields(
            map,
            &[
                "Comment",
                "StartAt",
                "States",
                "Version",
                "TimeoutSeconds",
                "QueryLanguage",
            ],
            &root,
        );
        machine.comment = self.string_field(map, "Comment", &root);
        machine.version = self.string_field(map, "Version", &root);
        machine.timeout_seconds = map.get("TimeoutSeconds").cloned();
        machine.query_language = self.typed(map.get("QueryLanguage"), &root.push("QueryLanguage"));
        let (start_at, states) = self.state_map(map, &root);
        machine.start_at = start_at;
        machine.states = states;
        machine
    }

    /// Reads `StartAt` and `States` of the document or of a nested branch.
    fn state_map(
        &mut self,
        map: &JsonMap<String, Json>,
        at: &Pointer,
    ) -> (String, Vec<NamedState>) {
        let start_at = match map.get("StartAt") {
            None => {
                self.problem(at, "missing required field `StartAt`");
                String::new()
            }
            Some(_) => self.string_field(map, "StartAt", at).unwrap_or_default(),
        };
        let mut states = Vec::new();
        match map.get("States") {
            None => self.problem(at, "missing required field `States`"),
            Some(json) => {
                let states_at = at.push("States");
                if let Some(entries) = self.object(json, &states_at, "States") {
                    for (name, state) in entries {
                        if let Some(state) = self.state(state, &states_at.push(name)) {
                            states.push(NamedState {
                                name: name.clone(),
                                state,
                            });
                        }
                    }
                }
            }
        }
        (start_at, states)
    }

    fn state(&mut self, json: &Json, at: &Pointer) -> Option<State> {
        let map = self.object(json, at, "a state")?;
        let type_name = match map.get("Type") {
            None => {
                self.problem(at, "missing required field `Type`");
                return None;
            }
            Some(Json::String(t)) => t.as_str(),
            Some(other) => {
                self.problem(
                    &at.push("Type"),
                    format!("Type must be a string, found {}", json_type(other)),
                );
                return None;
            }
        };
        let mut fields = map.clone();
        fields.remove("Type");
        match type_name {
            "Pass" => self.typed_fields(fields, at).map(State::Pass),
            "Task" => self.typed_fields(fields, at).map(State::Task),
            "Choice" => self.typed_fields(fields, at).map(State::Choice),
            "Wait" => self.typed_fields(fields, at).map(State::Wait),
            "Succeed" => self.typed_fields(fields, at).map(State::Succeed),
            "Fail" => self.typed_fields(fields, at).map(State::Fail),
            "Parallel" => self.parallel(fields, at).map(State::Parallel),
            "Map" => self.map_state(fields, at).map(State::Map),
            other => {
                self.problem(
                    &at.push("Type"),
                    format!(
                        "unknown state type `{other}` (expected Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)"
                    ),
                );
                None
            }
        }
    }

    fn parallel(
        &mut self,
        mut fields: JsonMap<String, Json>,
        at: &Pointer,
    ) -> Option<ParallelState> {
        let branches_json = fields.remove("Branches");
        let typed: Option<ParallelFields> = self.typed_fields(fields, at);
        let mut branches = Vec::new();
        match &branches_json {
            None => self.problem(at, "missing required field `Branches`"),
            Some(Json::Array(items)) => {
                let branches_at = at.push("Branches");
                for (i, item) in items.iter().enumerate() {
                    if let Some(branch) = self.branch(item, &branches_at.push(i), false) {
                        branches.push(branch);
                    }
                }
            }
            Some(other) => self.problem(
                &at.push("Branches"),
                format!("Branches must be an array, found {}", json_type(other)),
            ),
        }
        let fields = typed?;
        Some(ParallelState {
            query_language: fields.query_language,
            fields,
            branches,
        })
    }

    fn map_state(&mut self, mut fields: JsonMap<String, Json>, at: &Pointer) -> Option<MapState> {
        let processor_json = fields.remove("ItemProcessor");
        let iterator_json = fields.remove("Iterator");
        let typed: Option<MapFields> = self.typed_fields(fields, at);
        let (processor, legacy_iterator) = match (processor_json, iterator_json) {
            (Some(_), Some(_)) => {
                self.problem(at, "set only one of `ItemProcessor` and `Iterator`");
                (None, false)
            }
            (Some(p), None) => (self.branch(&p, &at.push("ItemProcessor"), true), false),
            (None, Some(it)) => (self.branch(&it, &at.push("Iterator"), true), true),
            (None, None) => {
                self.problem(at, "missing required field `ItemProcessor`");
                (None, false)
            }
        };
        let fields = typed?;
        Some(MapState {
            query_language: fields.query_language,
            fields,
            processor,
            legacy_iterator,
        })
    }

    fn branch(&mut self, json: &Json, at: &Pointer, is_map_processor: bool) -> Option<Branch> {
        let map = self.object(json, at, "a branch")?;
        let allowed: &[&str] = if is_map_processor {
            &["Comment", "StartAt", "States", "ProcessorConfig"]
        } else {
            &["Comment", "StartAt", "States"]
        };
        self.unknown_fields(map, allowed, at);
        let comment = self.string_field(map, "Comment", at);
        let processor_config = if is_map_processor {
            self.typed(map.get("ProcessorConfig"), &at.push("ProcessorConfig"))
        } else {
            None
        };
        let (start_at, states) = self.state_map(map, at);
        Some(Branch {
            comment,
            start_at,
            states,
            processor_config,
        })
    }

    /// Deserializes the remaining fields of a state into its typed struct.
    fn typed_fields<T: DeserializeOwned>(
        &mut self,
        fields: JsonMap<String, Json>,
        at: &Pointer,
    ) -> Option<T> {
        self.typed(Some(&Json::Object(fields)), at)
    }

    fn typed<T: DeserializeOwned>(&mut self, json: Option<&Json>, at: &Pointer) -> Option<T> {
        let json = json?;
        match serde_path_to_error::deserialize::<_, T>(json) {
            Ok(value) => Some(value),
            Err(err) => {
                let mut pointer = at.clone();
                for segment in err.path().iter() {
                    match segment {
                        serde_path_to_error::Segment::Map { key } => pointer = pointer.push(key),
                        serde_path_to_error::Segment::Seq { index } => {
                            pointer = pointer.push(index)
                        }
                        _ => {}
                    }
                }
                let message = err.inner().to_string();
                // serde's "unknown field `X`, expected one of ..." lists every
                // field; the pointer already ends in X, so keep it short.
                let message = match unknown_field_name(&message) {
                    Some(name) => format!("unknown field `{name}`"),
                    None => message,
                };
                self.problem(&pointer, message);
                None
            }
        }
    }
}

/// The field name out of serde's "unknown field `X`, expected ..." message.
fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.find('`').map(|end| &rest[..end])
}

/// The JSON type name of a raw value, for messages.
pub fn json_type(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        parse_definition(text)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn loads_nested_branches_in_order() {
        let m = parse_definition(
            r#"{"StartAt":"P","States":{
                "P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}],"Next":"M"},
                "M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}},"End":true}}}"#,
        )
        .unwrap();
        assert_eq!(m.states.len(), 2);
        assert_eq!(m.states[0].name, "P");
        let State::Parallel(p) = &m.states[0].state else {
            panic!()
        };
        assert_eq!(p.branches[0].start_at, "A");
        let State::Map(map) = &m.states[1].state else {
            panic!()
        };
        assert_eq!(map.processor.as_ref().unwrap().states[0].name, "B");
    }

    #[test]
    fn reports_every_structural_problem_with_its_pointer() {
        let found = problems(
            r#"{"StartAt":"A","Bogus":1,"States":{
                "A":{"Type":"Pass","Nxt":"B"},
                "B":{"Type":"Wait","Seconds":1,"End":"yes"},
                "C":{"Type":"Teleport"},
                "D":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Foo":1}}}],"End":true}}}"#,
        );
        assert_eq!(
            found,
            [
                "/Bogus: unknown field `Bogus`",
                "/States/A/Nxt: unknown field `Nxt`",
                "/States/B/End: invalid type: string \"yes\", expected a boolean",
                "/States/C/Type: unknown state type `Teleport` (expected Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)",
                "/States/D/Branches/0/States/X/Foo: unknown field `Foo`",
            ]
        );
    }

    #[test]
    fn bad_json_names_the_byte_offset() {
        let found = problems("{\n  \"StartAt\": \"A\",\n  \"States\": {,}\n}");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("line 3 column 14 (byte offset 33)"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn distinguishes_null_from_absent_paths() {
        let m = parse_definition(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":null,"End":true}}}"#,
        )
        .unwrap();
        let State::Pass(p) = &m.states[0].state else {
            panic!()
        };
        assert_eq!(p.result_path, Nullable::Null);
        assert_eq!(p.input_path, Nullable::Absent);
    }
}
