//! Variable scopes: the top-level states share one scope, every Parallel
//! branch and Map item processor has its own, which reads the enclosing
//! ones. AWS rejects a definition in which a nested scope assigns a
//! variable that an enclosing scope also assigns ("a variable assigned in an
//! inner scope cannot have the same name as one assigned in an outer
//! scope"). A catcher's `Assign` belongs to the scope of its state.

use super::Report;
use crate::asl::{Json, NamedState, QueryLanguage, State};
use crate::diagnostic::Pointer;

/// The variables a scope's own states assign, each with the pointer of one
/// place that assigns it.
pub(crate) fn assigned_in(
    states: &[NamedState],
    at: &Pointer,
    machine: Option<QueryLanguage>,
) -> Vec<(String, Pointer)> {
    let mut out: Vec<(String, Pointer)> = Vec::new();
    let states_at = at.push("States");
    for named in states {
        let state_at = states_at.push(&named.name);
        let lang = super::query_language::effective(named.state.query_language(), machine);
        let mut add = |assign: Option<&Json>, assign_at: Pointer| {
            let Some(Json::Object(map)) = assign else {
                return;
            };
            for key in map.keys() {
                let name = match (lang, key.strip_suffix(".$")) {
                    (QueryLanguage::JsonPath, Some(name)) => name,
                    _ => key.as_str(),
                };
                if !out.iter().any(|(n, _)| n == name) {
                    out.push((name.to_string(), assign_at.push(key)));
                }
            }
        };
        let (assign, catchers) = match &named.state {
            State::Pass(s) => (s.assign.as_ref(), None),
            State::Task(s) => (s.assign.as_ref(), s.catch.as_deref()),
            State::Choice(s) => {
                for (i, rule) in s.choices.iter().flatten().enumerate() {
                    add(
                        rule.assign.as_ref(),
                        state_at.push("Choices").push(i).push("Assign"),
                    );
                }
                (s.assign.as_ref(), None)
            }
            State::Wait(s) => (s.assign.as_ref(), None),
            State::Succeed(_) | State::Fail(_) => (None, None),
            State::Parallel(s) => (s.fields.assign.as_ref(), s.fields.catch.as_deref()),
            State::Map(s) => (s.fields.assign.as_ref(), s.fields.catch.as_deref()),
        };
        add(assign, state_at.push("Assign"));
        for (i, catcher) in catchers.unwrap_or_default().iter().enumerate() {
            add(
                catcher.assign.as_ref(),
                state_at.push("Catch").push(i).push("Assign"),
            );
        }
    }
    out
}

/// Reports the variables of a nested scope that an enclosing scope assigns.
pub(crate) fn check_nested(
    assigned: &[(String, Pointer)],
    enclosing: &[Vec<(String, Pointer)>],
    report: &mut Report,
) {
    for (name, at) in assigned {
        if let Some((_, outer_at)) = enclosing.iter().flatten().find(|(n, _)| n == name) {
            report.add(
                at,
                format!(
                    "the variable `{name}` is assigned in an enclosing scope (at {}); states inside a Parallel branch or a Map item processor cannot assign it",
                    outer_at.as_str()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::test_support::problems;

    #[test]
    fn nested_scopes_cannot_assign_outer_variables() {
        let found = problems(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Assign":{"x":1,"y.$":"$"},"Next":"M"},
                "M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{
                    "I":{"Type":"Pass","Assign":{"x":2,"inner":1},"Next":"P"},
                    "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"inner":3,"y":0,"own":1},"End":true}}}],"End":true}}},
                    "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"z":1},"Next":"C"}],"Next":"C"},
                "C":{"Type":"Pass","End":true}}}"#,
        );
        assert_eq!(
            found,
            [
                "/States/M/ItemProcessor/States/I/Assign/x: the variable `x` is assigned in an enclosing scope (at /States/A/Assign/x); states inside a Parallel branch or a Map item processor cannot assign it",
                "/States/M/ItemProcessor/States/P/Branches/0/States/B/Assign/inner: the variable `inner` is assigned in an enclosing scope (at /States/M/ItemProcessor/States/I/Assign/inner); states inside a Parallel branch or a Map item processor cannot assign it",
                "/States/M/ItemProcessor/States/P/Branches/0/States/B/Assign/y: the variable `y` is assigned in an enclosing scope (at /States/A/Assign/y.$); states inside a Parallel branch or a Map item processor cannot assign it",
            ]
        );
    }

    #[test]
    fn sibling_scopes_may_share_names() {
        let found = problems(
            r#"{"StartAt":"P","States":{
                "P":{"Type":"Parallel","Branches":[
                    {"StartAt":"B1","States":{"B1":{"Type":"Pass","Assign":{"v":1},"End":true}}},
                    {"StartAt":"B2","States":{"B2":{"Type":"Pass","Assign":{"v":2},"End":true}}}],
                    "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"err.$":"$"},"Next":"E"}],"Assign":{"after":1},"End":true},
                "E":{"Type":"Pass","Assign":{"w":3},"End":true}}}"#,
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
