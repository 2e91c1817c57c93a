//! Definition validation: every rule AWS applies when it accepts a state
//! machine, checked on the loaded model, each problem reported with the JSON
//! pointer of the field at fault (`/States/Check/Choices/2/Next`).
//!
//! [`validate`] never stops at the first problem. [`load`] parses and
//! validates in one go.
//!
//! One module per concern, each walking the states for its own rules:
//!
//! * `graph`: `StartAt`, transitions, `Next`/`End`, reachability, names;
//! * `query_language`: which language a state is in, and the fields that
//!   belong to the other one;
//! * `fields`: types and ranges of plain fields (timeouts, `Wait`, `Fail`,
//!   `Map` limits, `ProcessorConfig`, ...);
//! * `paths`: JSONPath fields (`InputPath`, `ResultPath`, `...Path`);
//! * `templates`: payload templates (`.$` keys), `Assign`, JSONata values;
//! * `retry_catch`: `Retry` and `Catch`;
//! * `scopes`: variables assigned in a nested scope and an enclosing one;
//! * `choice`: Choice rules;
//! * `jsonata`: JSONata expression strings (`{% ... %}`);
//! * `values`: number checks and value descriptions shared by the others.

mod choice;
mod fields;
mod graph;
mod jsonata;
mod paths;
mod query_language;
mod retry_catch;
mod scopes;
mod templates;
mod values;

pub use jsonata::is_expression as is_jsonata_expression;

use crate::asl::{self, NamedState, QueryLanguage, State, StateMachine};
use crate::diagnostic::{Diagnostic, Diagnostics, Pointer};

/// Parses and validates a definition, reporting every problem at once: the
/// structural ones (bad JSON, unknown or mistyped fields) if there are any,
/// otherwise every rule the definition breaks.
pub fn load(text: &str) -> Result<StateMachine, Diagnostics> {
    let machine = asl::parse_definition(text)?;
    let problems = validate(&machine);
    if problems.is_empty() {
        Ok(machine)
    } else {
        Err(Diagnostics(problems))
    }
}

/// Checks a loaded definition against AWS's rules and returns every problem,
/// in document order state by state (empty when the definition is valid).
pub fn validate(machine: &StateMachine) -> Vec<Diagnostic> {
    let mut walker = Walker {
        report: Report::default(),
        machine_language: machine.query_language,
        all_names: graph::all_names(&machine.states),
        enclosing: Vec::new(),
    };
    fields::check_machine(machine, &mut walker.report);
    walker.scope(&machine.start_at, &machine.states, &Pointer::root());
    walker.report.0
}

/// The problems found so far.
#[derive(Debug, Default)]
pub(crate) struct Report(Vec<Diagnostic>);

impl Report {
    /// Records a problem at `at`.
    pub(crate) fn add(&mut self, at: &Pointer, message: impl Into<String>) {
        self.0.push(Diagnostic::new(at.as_str(), message));
    }

    /// Records a problem at `at` with AWS's diagnostic `code`.
    pub(crate) fn add_coded(
        &mut self,
        at: &Pointer,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.0
            .push(Diagnostic::new(at.as_str(), message).with_code(code));
    }
}

/// Walks the state maps (top level, Parallel branches, Map item processors)
/// and runs every module's checks on every state.
struct Walker<'m> {
    report: Report,
    machine_language: Option<QueryLanguage>,
    /// Where each state name is first used in the document.
    all_names: graph::AllNames<'m>,
    /// The variables assigned by each scope enclosing the one being walked.
    enclosing: Vec<Vec<(String, Pointer)>>,
}

impl<'m> Walker<'m> {
    fn scope(&mut self, start_at: &'m str, states: &'m [NamedState], at: &Pointer) {
        let scope = graph::Scope::new(start_at, states);
        graph::check_start(&scope, at, &self.all_names, &mut self.report);
        let assigned = scopes::assigned_in(states, at, self.machine_language);
        scopes::check_nested(&assigned, &self.enclosing, &mut self.report);
        self.enclosing.push(assigned);
        let states_at = at.push("States");
        for named in states {
            let state_at = states_at.push(&named.name);
            graph::check_state(named, &state_at, &scope, &self.all_names, &mut self.report);
            self.state(&named.state, &state_at);
        }
        self.enclosing.pop();
        graph::check_reachability(&scope, at, &mut self.report);
    }

    fn state(&mut self, state: &'m State, at: &Pointer) {
        let report = &mut self.report;
        query_language::check_state_language(state, at, self.machine_language, report);
        let lang = query_language::effective(state.query_language(), self.machine_language);
        query_language::check_state_fields(state, at, lang, report);
        fields::check_state(state, at, lang, report);
        paths::check_state(state, at, lang, report);
        templates::check_state(state, at, lang, report);
        retry_catch::check_state(state, at, lang, report);
        if let State::Choice(choice) = state {
            choice::check_state(choice, at, lang, report);
        }
        match state {
            State::Parallel(parallel) => {
                for (i, branch) in parallel.branches.iter().enumerate() {
                    let branch_at = at.push("Branches").push(i);
                    self.scope(&branch.start_at, &branch.states, &branch_at);
                }
            }
            State::Map(map) => {
                if let Some(processor) = &map.processor {
                    let processor_at = at.push(processor_field(map));
                    self.scope(&processor.start_at, &processor.states, &processor_at);
                }
            }
            _ => {}
        }
    }
}

/// The name the Map's item processor is written under.
pub(crate) fn processor_field(map: &asl::MapState) -> &'static str {
    if map.legacy_iterator {
        "Iterator"
    } else {
        "ItemProcessor"
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers for the unit tests of every module.

    /// The problems of a definition as `pointer: message` lines; panics if it
    /// does not even load structurally.
    pub(crate) fn problems(text: &str) -> Vec<String> {
        let machine = match crate::asl::parse_definition(text) {
            Ok(m) => m,
            Err(e) => panic!("definition does not load: {e}"),
        };
        super::validate(&machine)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// A one-state machine whose only state is `state` (a JSON object text)
    /// named `S`.
    pub(crate) fn one_state(state: &str) -> String {
        format!(r#"{{"StartAt":"S","States":{{"S":{state}}}}}"#)
    }

    /// Like [`one_state`] with a top-level `"QueryLanguage": "JSONata"`.
    pub(crate) fn one_jsonata_state(state: &str) -> String {
        format!(r#"{{"QueryLanguage":"JSONata","StartAt":"S","States":{{"S":{state}}}}}"#)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::problems;
    use super::*;

    #[test]
    fn a_valid_machine_has_no_problems() {
        let text = r#"{"StartAt":"A","States":{
            "A":{"Type":"Pass","Next":"P"},
            "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}],"Next":"M"},
            "M":{"Type":"Map","ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Pass","End":true}}},"End":true}}}"#;
        assert_eq!(problems(text), Vec::<String>::new());
        assert!(load(text).is_ok());
    }

    #[test]
    fn load_reports_structural_problems_first() {
        let err = load(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Nxt":"B"}}}"#).unwrap_err();
        assert_eq!(err.0[0].to_string(), "/States/A/Nxt: unknown field `Nxt`");
    }

    #[test]
    fn load_reports_every_rule_broken() {
        let err = load(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Next":"Nowhere"},
                "B":{"Type":"Wait","Seconds":-1,"End":true}}}"#,
        )
        .unwrap_err();
        let lines: Vec<String> = err.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "/States/A/Next: no state named `Nowhere`",
                "/States/B/Seconds: `Seconds` must be an integer from 0 to 99999999, found -1",
                "/States/B: unreachable state: no transition from `StartAt` leads here",
            ]
        );
    }

    #[test]
    fn nested_scopes_report_with_their_own_pointers() {
        let found = problems(
            r#"{"StartAt":"P","States":{
                "P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","End":true,"Next":"X"}}}],"Next":"M"},
                "M":{"Type":"Map","Iterator":{"StartAt":"Y","States":{"Y":{"Type":"Pass"}}},"End":true}}}"#,
        );
        assert_eq!(
            found,
            [
                "/States/P/Branches/0/States/X/End: set either `Next` or `\"End\": true`, not both",
                "/States/M/Iterator/States/Y: missing `Next` (or `\"End\": true` to end here)",
                "/States/M/Iterator/States: no terminal state: at least one state must be a Succeed or Fail state or have `\"End\": true`",
            ]
        );
    }
}
