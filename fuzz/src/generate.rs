//! Valid definitions made from the fuzzer's bytes, for the `run` target: a
//! few Pass, Wait, Choice, Map, Parallel, Succeed and Fail states per state
//! map, in JSONPath or JSONata, with Retry and Catch on Map and Parallel.
//!
//! Every definition made here is meant to validate, and to end: each state
//! map is a chain (state `i` goes on to `i + 1`, so every state is
//! reachable), Choice rules and Catch may jump ahead, and the only jumps
//! back land on a Wait of at least one second, so every loop spends time and
//! runs into the execution's `TimeoutSeconds`.

use crate::choices::Choices;
use serde_json::{Map, Value as Json, json};

/// Deepest nesting of Map and Parallel.
const MAX_DEPTH: u32 = 2;

/// One state's kind; a Wait carries its seconds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pass,
    Wait(u64),
    Choice,
    Map,
    Parallel,
    Succeed,
    Fail,
}

/// A definition and an input to run it on.
pub(crate) struct Generated {
    /// The definition.
    pub definition: Json,
    /// The execution's input.
    pub input: Json,
}

/// Makes a definition and an input from `choices`.
pub(crate) fn generate(choices: &mut Choices<'_>) -> Generated {
    let jsonata = choices.flag();
    let timeout_seconds = 1 + choices.below(4);
    let items: Vec<Json> = (0..choices.below(4)).map(|i| json!(i)).collect();
    let input = json!({"n": choices.below(8), "s": "text", "items": items});
    let mut generator = Generator {
        choices,
        jsonata,
        names: 0,
    };
    let mut definition = generator.state_map(0);
    let top = definition
        .as_object_mut()
        .expect("a state map is an object");
    top.insert(
        "QueryLanguage".into(),
        json!(if jsonata { "JSONata" } else { "JSONPath" }),
    );
    top.insert("TimeoutSeconds".into(), json!(timeout_seconds));
    Generated { definition, input }
}

struct Generator<'c, 'b> {
    choices: &'c mut Choices<'b>,
    jsonata: bool,
    /// State names made so far (names are unique in the whole machine).
    names: usize,
}

impl Generator<'_, '_> {
    /// `{"StartAt": ..., "States": {...}}` at nesting `depth`.
    fn state_map(&mut self, depth: u32) -> Json {
        let count = 1 + self.choices.below(if depth == 0 { 6 } else { 3 });
        let names: Vec<String> = (0..count)
            .map(|_| {
                self.names += 1;
                format!("S{}", self.names)
            })
            .collect();
        let kinds: Vec<Kind> = (0..count)
            .map(|i| self.kind(i + 1 == count, depth))
            .collect();
        let mut states = Map::new();
        for (i, name) in names.iter().enumerate() {
            let state = self.state(i, &names, &kinds, depth);
            states.insert(name.clone(), state);
        }
        json!({"StartAt": names[0], "States": states})
    }

    /// A kind for a state; only the last state of a map ends it, and a
    /// Choice (which cannot end) is never last.
    fn kind(&mut self, last: bool, depth: u32) -> Kind {
        let nests = depth < MAX_DEPTH;
        match self.choices.below(8) {
            1 => Kind::Wait(self.choices.below(3) as u64),
            2 if !last => Kind::Choice,
            3 if nests => Kind::Map,
            4 if nests => Kind::Parallel,
            5 if last => Kind::Succeed,
            6 if last => Kind::Fail,
            _ => Kind::Pass,
        }
    }

    /// Where state `i` may jump: any later state, or back to a Wait of at
    /// least one second.
    fn jump_targets(i: usize, kinds: &[Kind]) -> Vec<usize> {
        (0..kinds.len())
            .filter(|&j| j > i || matches!(kinds[j], Kind::Wait(s) if s >= 1))
            .collect()
    }

    fn state(&mut self, i: usize, names: &[String], kinds: &[Kind], depth: u32) -> Json {
        let mut state = Map::new();
        let kind = kinds[i];
        let type_name = match kind {
            Kind::Pass => "Pass",
            Kind::Wait(_) => "Wait",
            Kind::Choice => "Choice",
            Kind::Map => "Map",
            Kind::Parallel => "Parallel",
            Kind::Succeed => "Succeed",
            Kind::Fail => "Fail",
        };
        state.insert("Type".into(), json!(type_name));
        match kind {
            Kind::Pass => self.pass(&mut state, &names[i]),
            Kind::Wait(seconds) => {
                state.insert("Seconds".into(), json!(seconds));
            }
            Kind::Choice => {
                let targets = Self::jump_targets(i, kinds);
                let rules: Vec<Json> = (0..1 + self.choices.below(3))
                    .map(|_| {
                        let mut rule = self.rule(true);
                        let next = &names[self.choices.pick(&targets)];
                        rule.as_object_mut()
                            .expect("a rule is an object")
                            .insert("Next".into(), json!(next));
                        rule
                    })
                    .collect();
                state.insert("Choices".into(), json!(rules));
                state.insert("Default".into(), json!(names[i + 1]));
            }
            Kind::Map => self.map(&mut state, depth),
            Kind::Parallel => {
                let branches: Vec<Json> = (0..1 + self.choices.below(3))
                    .map(|_| self.state_map(depth + 1))
                    .collect();
                state.insert("Branches".into(), json!(branches));
                if !self.jsonata && self.choices.flag() {
                    state.insert("ResultPath".into(), json!("$.branches"));
                }
            }
            Kind::Succeed => {}
            Kind::Fail => {
                state.insert("Error".into(), json!("Fuzz.Failed"));
                state.insert("Cause".into(), json!("a generated Fail state"));
            }
        }
        if matches!(kind, Kind::Map | Kind::Parallel) {
            self.retry_and_catch(&mut state, i, names, kinds);
        }
        if !matches!(kind, Kind::Choice | Kind::Succeed | Kind::Fail) {
            match names.get(i + 1) {
                Some(next) => state.insert("Next".into(), json!(next)),
                None => state.insert("End".into(), json!(true)),
            };
        }
        Json::Object(state)
    }

    fn pass(&mut self, state: &mut Map<String, Json>, name: &str) {
        let k = self.choices.below(8);
        if self.jsonata {
            if self.choices.flag() {
                let output = self.choices.pick(&[
                    "{% $states.input %}".to_string(),
                    format!("{{% {{'n': $states.input.n, 'k': {k}}} %}}"),
                    "{% $merge([$states.input, {'seen': true}]) %}".to_string(),
                ]);
                state.insert("Output".into(), json!(output));
            }
            if self.choices.flag() {
                state.insert(
                    "Assign".into(),
                    json!({format!("v{name}"): format!("{{% {k} + 1 %}}")}),
                );
            }
            return;
        }
        if self.choices.flag() {
            let result = self
                .choices
                .pick(&[json!({"n": k}), json!([k, "x"]), json!("r")]);
            state.insert("Result".into(), result);
        }
        if self.choices.flag() {
            let path = self.choices.pick(&["$.r", "$", "$.n"]);
            state.insert("ResultPath".into(), json!(path));
        }
        if self.choices.flag() {
            state.insert("Parameters".into(), json!({"m.$": "$.n", "c": k}));
        }
        if self.choices.flag() {
            state.insert("Assign".into(), json!({format!("v{name}"): k}));
        }
    }

    /// A Choice rule (`top`: one that gets a `Next`).
    fn rule(&mut self, top: bool) -> Json {
        let k = self.choices.below(8);
        if self.jsonata {
            let condition = self.choices.pick(&[
                format!("{{% $states.input.n < {k} %}}"),
                "{% $exists($states.input.s) %}".to_string(),
                format!("{{% $count($states.input.items) > {k} %}}"),
            ]);
            return json!({"Condition": condition});
        }
        match self.choices.below(if top { 6 } else { 4 }) {
            0 => json!({"Variable": "$.n", "NumericLessThan": k}),
            1 => json!({"Variable": "$.n", "IsPresent": self.choices.flag()}),
            2 => json!({"Variable": "$.s", "StringEquals": "text"}),
            3 => json!({"Variable": "$.items[0]", "IsNumeric": true}),
            4 => json!({"Not": self.rule(false)}),
            _ => json!({"And": [self.rule(false), self.rule(false)]}),
        }
    }

    fn map(&mut self, state: &mut Map<String, Json>, depth: u32) {
        if self.jsonata {
            state.insert("Items".into(), json!("{% $states.input.items %}"));
            state.insert(
                "ItemSelector".into(),
                json!({"n": "{% $states.context.Map.Item.Index %}", "s": "text", "items": [1, 2]}),
            );
        } else {
            state.insert("ItemsPath".into(), json!("$.items"));
            state.insert(
                "ItemSelector".into(),
                json!({"n.$": "$$.Map.Item.Index", "s": "text", "items": [1, 2]}),
            );
            if self.choices.flag() {
                state.insert("ResultPath".into(), json!("$.results"));
            }
        }
        state.insert("MaxConcurrency".into(), json!(self.choices.below(3)));
        state.insert("ItemProcessor".into(), self.state_map(depth + 1));
    }

    fn retry_and_catch(
        &mut self,
        state: &mut Map<String, Json>,
        i: usize,
        names: &[String],
        kinds: &[Kind],
    ) {
        if self.choices.flag() {
            state.insert(
                "Retry".into(),
                json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": self.choices.below(3), "IntervalSeconds": 1}]),
            );
        }
        let targets = Self::jump_targets(i, kinds);
        if !targets.is_empty() && self.choices.flag() {
            let mut catcher =
                json!({"ErrorEquals": ["States.ALL"], "Next": names[self.choices.pick(&targets)]});
            if !self.jsonata {
                catcher["ResultPath"] = json!("$.error");
            }
            state.insert("Catch".into(), json!([catcher]));
        }
    }
}
