//! The state graph of each state map (the top level, each Parallel branch,
//! each Map item processor), each its own scope:
//!
//! * the map has at least one state, and `StartAt` names one of them;
//! * every transition (`Next`, Choice `Default` and rule `Next`, Catch
//!   `Next`) names a state of the same map;
//! * Pass, Task, Wait, Parallel and Map have exactly one of `Next` and
//!   `"End": true` (`"End": false` does not end);
//! * every state can be reached from `StartAt`, and at least one state ends
//!   the map (Succeed, Fail, or `"End": true`);
//! * state names are at most 80 characters and unique in the whole
//!   document (nested maps included).

use super::{Report, processor_field};
use crate::asl::{NamedState, State};
use crate::diagnostic::Pointer;
use std::collections::{HashMap, HashSet};

/// Every state name of the document and the pointer of its first use.
pub(crate) type AllNames<'m> = HashMap<&'m str, Pointer>;

/// Collects the state names of the document, nested maps included, in
/// document order.
pub(crate) fn all_names(states: &[NamedState]) -> AllNames<'_> {
    let mut names = AllNames::new();
    collect_names(states, &Pointer::root().push("States"), &mut names);
    names
}

fn collect_names<'m>(states: &'m [NamedState], at: &Pointer, names: &mut AllNames<'m>) {
    for named in states {
        let state_at = at.push(&named.name);
        names.entry(&named.name).or_insert_with(|| state_at.clone());
        match &named.state {
            State::Parallel(parallel) => {
                for (i, branch) in parallel.branches.iter().enumerate() {
                    let branch_at = state_at.push("Branches").push(i).push("States");
                    collect_names(&branch.states, &branch_at, names);
                }
            }
            State::Map(map) => {
                if let Some(processor) = &map.processor {
                    let processor_at = state_at.push(processor_field(map)).push("States");
                    collect_names(&processor.states, &processor_at, names);
                }
            }
            _ => {}
        }
    }
}

/// AWS's limit on the length of a state name.
pub(crate) const MAX_STATE_NAME: usize = 80;

/// One state map.
pub(crate) struct Scope<'m> {
    start_at: &'m str,
    states: &'m [NamedState],
    by_name: HashMap<&'m str, &'m State>,
}

impl<'m> Scope<'m> {
    /// The scope of `states`, entered at `start_at`.
    pub(crate) fn new(start_at: &'m str, states: &'m [NamedState]) -> Scope<'m> {
        Scope {
            start_at,
            states,
            by_name: states.iter().map(|s| (s.name.as_str(), &s.state)).collect(),
        }
    }

    fn start_is_valid(&self) -> bool {
        self.by_name.contains_key(self.start_at)
    }
}

/// Checks that the map (at `at`) has states and that `StartAt` names one.
pub(crate) fn check_start(scope: &Scope, at: &Pointer, all_names: &AllNames, report: &mut Report) {
    if scope.states.is_empty() {
        report.add(
            &at.push("States"),
            "`States` must contain at least one state",
        );
    } else if !scope.start_is_valid() {
        check_target(
            scope.start_at,
            &at.push("StartAt"),
            scope,
            all_names,
            report,
        );
    }
}

/// Checks one state's name, `Next`/`End`, and the targets of its
/// transitions.
pub(crate) fn check_state(
    named: &NamedState,
    at: &Pointer,
    scope: &Scope,
    all_names: &AllNames,
    report: &mut Report,
) {
    if let Some(first) = all_names.get(named.name.as_str())
        && first != at
    {
        report.add(
            at,
            format!(
                "state name `{}` is already used at {first} (state names must be unique in the whole state machine, branches included)",
                named.name
            ),
        );
    }
    let length = named.name.chars().count();
    if length > MAX_STATE_NAME {
        report.add(
            at,
            format!("state name is {length} characters long, above the limit of {MAX_STATE_NAME}"),
        );
    }
    if let Some((next, end)) = next_and_end(&named.state) {
        match (next, end == Some(true)) {
            (Some(_), true) => report.add(
                &at.push("End"),
                "set either `Next` or `\"End\": true`, not both",
            ),
            (None, false) => report.add(at, "missing `Next` (or `\"End\": true` to end here)"),
            _ => {}
        }
    }
    for (pointer, target) in transitions(&named.state, at) {
        check_target(target, &pointer, scope, all_names, report);
    }
}

/// Reports the states `StartAt` cannot reach, and a map that never ends.
pub(crate) fn check_reachability(scope: &Scope, at: &Pointer, report: &mut Report) {
    if scope.states.is_empty() {
        return;
    }
    // With a bad `StartAt` every state would be unreachable: that one
    // problem is already reported.
    if scope.start_is_valid() {
        let mut reached: HashSet<&str> = HashSet::from([scope.start_at]);
        let mut queue = vec![scope.start_at];
        while let Some(name) = queue.pop() {
            let Some(state) = scope.by_name.get(name) else {
                continue;
            };
            for (_, target) in transitions(state, &Pointer::root()) {
                if scope.by_name.contains_key(target) && reached.insert(target) {
                    queue.push(target);
                }
            }
        }
        let states_at = at.push("States");
        for named in scope.states {
            if !reached.contains(named.name.as_str()) {
                report.add(
                    &states_at.push(&named.name),
                    "unreachable state: no transition from `StartAt` leads here",
                );
            }
        }
    }
    if !scope.states.iter().any(|s| is_terminal(&s.state)) {
        report.add(
            &at.push("States"),
            "no terminal state: at least one state must be a Succeed or Fail state or have `\"End\": true`",
        );
    }
}

fn check_target(
    target: &str,
    at: &Pointer,
    scope: &Scope,
    all_names: &AllNames,
    report: &mut Report,
) {
    if scope.by_name.contains_key(target) {
        return;
    }
    let message = if all_names.contains_key(target) {
        format!(
            "state `{target}` belongs to another `States` object (transitions cannot cross into or out of a Parallel branch or Map item processor)"
        )
    } else {
        format!("no state named `{target}`")
    };
    report.add_coded(
        at,
        crate::diagnostic::codes::MISSING_TRANSITION_TARGET,
        message,
    );
}

/// `Next` and `End` of the states that must have one of them.
fn next_and_end(state: &State) -> Option<(Option<&String>, Option<bool>)> {
    match state {
        State::Pass(s) => Some((s.next.as_ref(), s.end)),
        State::Task(s) => Some((s.next.as_ref(), s.end)),
        State::Wait(s) => Some((s.next.as_ref(), s.end)),
        State::Parallel(s) => Some((s.fields.next.as_ref(), s.fields.end)),
        State::Map(s) => Some((s.fields.next.as_ref(), s.fields.end)),
        State::Choice(_) | State::Succeed(_) | State::Fail(_) => None,
    }
}

fn is_terminal(state: &State) -> bool {
    match state {
        State::Succeed(_) | State::Fail(_) => true,
        other => next_and_end(other).is_some_and(|(_, end)| end == Some(true)),
    }
}

/// Every transition of a state: the pointer of the field naming the target
/// (under `at`), and the target.
fn transitions<'s>(state: &'s State, at: &Pointer) -> Vec<(Pointer, &'s str)> {
    let mut out = Vec::new();
    if let Some((Some(next), _)) = next_and_end(state) {
        out.push((at.push("Next"), next.as_str()));
    }
    let catchers = match state {
        State::Task(s) => s.catch.as_deref(),
        State::Parallel(s) => s.fields.catch.as_deref(),
        State::Map(s) => s.fields.catch.as_deref(),
        _ => None,
    };
    for (i, catcher) in catchers.unwrap_or_default().iter().enumerate() {
        if let Some(next) = &catcher.next {
            out.push((at.push("Catch").push(i).push("Next"), next.as_str()));
        }
    }
    if let State::Choice(choice) = state {
        for (i, rule) in choice.choices.iter().flatten().enumerate() {
            if let Some(next) = &rule.next {
                out.push((at.push("Choices").push(i).push("Next"), next.as_str()));
            }
        }
        if let Some(default) = &choice.default {
            out.push((at.push("Default"), default.as_str()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::{one_state, problems};

    #[test]
    fn problems_carry_aws_diagnostic_codes() {
        use crate::diagnostic::codes;
        let codes_of = |text: &str| -> Vec<&'static str> {
            match crate::validate::load(text) {
                Ok(_) => Vec::new(),
                Err(d) => d.0.iter().map(|d| d.code).collect(),
            }
        };
        assert_eq!(
            codes_of(r#"{"StartAt":"Nope","States":{"P":{"Type":"Pass","End":true}}}"#),
            [codes::MISSING_TRANSITION_TARGET]
        );
        assert_eq!(codes_of("{"), [codes::INVALID_JSON_DESCRIPTION]);
        assert_eq!(
            codes_of(r#"{"StartAt":"P","States":{"P":{"Type":"Pass"}}}"#)[0],
            codes::SCHEMA_VALIDATION_FAILED
        );
    }

    #[test]
    fn start_at_names_a_state_of_its_scope() {
        let found = problems(r#"{"StartAt":"Nope","States":{"A":{"Type":"Succeed"}}}"#);
        assert_eq!(found, ["/StartAt: no state named `Nope`"]);
        let found = problems(
            r#"{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"A","States":{"B":{"Type":"Succeed"}}}]}}}"#,
        );
        assert_eq!(
            found,
            [
                "/States/A/Branches/0/StartAt: state `A` belongs to another `States` object (transitions cannot cross into or out of a Parallel branch or Map item processor)"
            ]
        );
    }

    #[test]
    fn a_state_map_needs_states() {
        let found = problems(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{}}]}}}"#,
        );
        assert_eq!(
            found,
            ["/States/P/Branches/0/States: `States` must contain at least one state"]
        );
    }

    #[test]
    fn every_transition_names_a_state_of_the_same_scope() {
        let found = problems(
            r#"{"StartAt":"C","States":{
                "C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true,"Next":"T"},{"Variable":"$.a","IsNull":false,"Next":"Gone"}],"Default":"Inner"},
                "T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Lost"}],"Next":"M"},
                "M":{"Type":"Map","ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Pass","Next":"T"}}},"End":true}}}"#,
        );
        assert_eq!(
            found,
            [
                "/States/C/Choices/1/Next: no state named `Gone`",
                "/States/C/Default: state `Inner` belongs to another `States` object (transitions cannot cross into or out of a Parallel branch or Map item processor)",
                "/States/T/Catch/0/Next: no state named `Lost`",
                "/States/M/ItemProcessor/States/Inner/Next: state `T` belongs to another `States` object (transitions cannot cross into or out of a Parallel branch or Map item processor)",
                "/States/M/ItemProcessor/States: no terminal state: at least one state must be a Succeed or Fail state or have `\"End\": true`",
            ]
        );
    }

    #[test]
    fn exactly_one_of_next_and_end() {
        let found = problems(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Next":"C","End":true},
                "C":{"Type":"Pass","End":false,"Next":"B"},
                "B":{"Type":"Wait","Seconds":1,"End":false}}}"#,
        );
        assert_eq!(
            found,
            [
                "/States/A/End: set either `Next` or `\"End\": true`, not both",
                "/States/B: missing `Next` (or `\"End\": true` to end here)",
            ]
        );
    }

    #[test]
    fn unreachable_states_are_reported() {
        let found = problems(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"}],"End":true},
                "F":{"Type":"Fail"},
                "Orphan":{"Type":"Pass","Next":"A"}}}"#,
        );
        assert_eq!(
            found,
            ["/States/Orphan: unreachable state: no transition from `StartAt` leads here"]
        );
    }

    #[test]
    fn a_scope_needs_a_terminal_state() {
        let found = problems(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"}}}"#);
        assert_eq!(
            found,
            [
                "/States: no terminal state: at least one state must be a Succeed or Fail state or have `\"End\": true`"
            ]
        );
    }

    #[test]
    fn state_names_are_unique_in_the_whole_machine() {
        let found = problems(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Parallel","Next":"B","Branches":[
                    {"StartAt":"B","States":{"B":{"Type":"Succeed"}}},
                    {"StartAt":"A","States":{"A":{"Type":"Succeed"}}}]},
                "B":{"Type":"Succeed"}}}"#,
        );
        assert_eq!(
            found,
            [
                "/States/A/Branches/1/States/A: state name `A` is already used at /States/A (state names must be unique in the whole state machine, branches included)",
                "/States/B: state name `B` is already used at /States/A/Branches/0/States/B (state names must be unique in the whole state machine, branches included)",
            ]
        );
    }

    #[test]
    fn state_names_are_at_most_80_characters() {
        let name = "n".repeat(81);
        let found = problems(&format!(
            r#"{{"StartAt":"{name}","States":{{"{name}":{{"Type":"Succeed"}}}}}}"#
        ));
        assert_eq!(
            found,
            [format!(
                "/States/{name}: state name is 81 characters long, above the limit of 80"
            )]
        );
        assert!(problems(&one_state(r#"{"Type":"Succeed"}"#)).is_empty());
    }
}
