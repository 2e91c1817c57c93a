//! The graph of a definition, as the console draws it: every state a node
//! whose id is its JSON pointer (`/States/Check`,
//! `/States/P/Branches/0/States/F`), the branches of Map and Parallel
//! states as groups, and the edges between states: `Next`, Choice rules
//! (labelled with the rule in readable form), `Default`, and `Catch`
//! (labelled with the errors caught). Retry rules stay on their state, and
//! validation diagnostics are tied to the node their pointer falls in.
//!
//! The definition is read as plain JSON, so a definition with problems
//! still has a graph to show them on.

use serde_json::{Map, Value as Json};

/// A Retry rule, as shown on its state.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryRule {
    /// The errors it retries.
    pub error_equals: Vec<String>,
    /// Seconds before the first retry.
    pub interval_seconds: Option<f64>,
    /// Most retries.
    pub max_attempts: Option<i64>,
    /// Multiplier of the interval.
    pub backoff_rate: Option<f64>,
}

/// One state.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Its JSON pointer in the definition.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its `Type`.
    pub kind: String,
    /// The branch it belongs to (`None` at the top level).
    pub branch: Option<String>,
    /// Whether it is its branch's (or the machine's) `StartAt`.
    pub start: bool,
    /// Whether an execution may end there (`End`, `Succeed`, `Fail`).
    pub end: bool,
    /// A Task's `Resource`.
    pub resource: Option<String>,
    /// Its Retry rules.
    pub retry: Vec<RetryRule>,
    /// Its `Comment`.
    pub comment: Option<String>,
}

/// A branch of a Parallel state or the processor of a Map state.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// The pointer of the object holding its `States`.
    pub id: String,
    /// The Map or Parallel node it belongs to.
    pub state: String,
    /// Its index among the state's branches (0 for a Map).
    pub index: usize,
    /// Its first node.
    pub start_at: String,
}

/// What an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// `Next`.
    Next,
    /// A Choice rule.
    Choice,
    /// A Choice state's `Default`.
    Default,
    /// A Catch rule.
    Catch,
}

/// A transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The node it leaves.
    pub from: String,
    /// The node it reaches.
    pub to: String,
    /// What it stands for.
    pub kind: EdgeKind,
    /// The Choice rule or the errors caught, readable.
    pub label: Option<String>,
}

/// A whole definition's graph.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// The node the machine starts at.
    pub start_at: String,
    /// Every state, in definition order (a branch's states after their
    /// Map or Parallel state).
    pub nodes: Vec<Node>,
    /// Every branch.
    pub branches: Vec<Branch>,
    /// Every transition.
    pub edges: Vec<Edge>,
}

/// `token` escaped for a JSON pointer (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl Graph {
    /// The graph of a definition's text; `None` if it is not a JSON object.
    pub fn of_text(definition: &str) -> Option<Graph> {
        let json: Json = serde_json::from_str(definition).ok()?;
        json.is_object().then(|| Graph::of(&json))
    }

    /// The graph of a parsed definition.
    pub fn of(definition: &Json) -> Graph {
        let mut graph = Graph::default();
        graph.start_at = graph.add_scope(definition, "", None);
        graph
    }

    /// The node a JSON pointer falls in: the deepest state whose pointer
    /// is a prefix of it.
    pub fn node_at(&self, pointer: &str) -> Option<&Node> {
        self.nodes
            .iter()
            .filter(|n| {
                pointer == n.id
                    || pointer
                        .strip_prefix(n.id.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|n| n.id.len())
    }

    /// The node of the state named `name` (names are unique in a state
    /// machine).
    pub fn node_named(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Adds the states of the scope at `base` (an object with `StartAt` and
    /// `States`); returns the id of its start node.
    fn add_scope(&mut self, scope: &Json, base: &str, branch: Option<&str>) -> String {
        let start_name = scope.get("StartAt").and_then(Json::as_str).unwrap_or("");
        let id_of = |name: &str| format!("{base}/States/{}", escape(name));
        let start = id_of(start_name);
        let Some(states) = scope.get("States").and_then(Json::as_object) else {
            return start;
        };
        for (name, state) in states {
            let id = id_of(name);
            self.add_state(name, state, &id, branch, name == start_name, &id_of);
        }
        start
    }

    fn add_state(
        &mut self,
        name: &str,
        state: &Json,
        id: &str,
        branch: Option<&str>,
        start: bool,
        id_of: &dyn Fn(&str) -> String,
    ) {
        let text = |key: &str| state.get(key).and_then(Json::as_str).map(str::to_string);
        let kind = text("Type").unwrap_or_default();
        let end = state.get("End").and_then(Json::as_bool) == Some(true)
            || matches!(kind.as_str(), "Succeed" | "Fail");
        self.nodes.push(Node {
            id: id.to_string(),
            name: name.to_string(),
            kind,
            branch: branch.map(str::to_string),
            start,
            end,
            resource: text("Resource"),
            retry: retry_rules(state),
            comment: text("Comment"),
        });
        let mut edge = |to: &str, kind: EdgeKind, label: Option<String>| {
            self.edges.push(Edge {
                from: id.to_string(),
                to: id_of(to),
                kind,
                label,
            })
        };
        if let Some(next) = state.get("Next").and_then(Json::as_str) {
            edge(next, EdgeKind::Next, None);
        }
        for rule in array(state, "Choices") {
            if let Some(next) = rule.get("Next").and_then(Json::as_str) {
                edge(next, EdgeKind::Choice, Some(choice_label(rule)));
            }
        }
        if let Some(default) = state.get("Default").and_then(Json::as_str) {
            edge(default, EdgeKind::Default, None);
        }
        for rule in array(state, "Catch") {
            if let Some(next) = rule.get("Next").and_then(Json::as_str) {
                let errors = strings(rule.get("ErrorEquals")).join(", ");
                edge(next, EdgeKind::Catch, Some(errors));
            }
        }
        for (index, branch_json) in array(state, "Branches").iter().enumerate() {
            self.add_branch(branch_json, &format!("{id}/Branches/{index}"), id, index);
        }
        for processor in ["ItemProcessor", "Iterator"] {
            if let Some(p) = state.get(processor) {
                self.add_branch(p, &format!("{id}/{processor}"), id, 0);
            }
        }
    }

    fn add_branch(&mut self, scope: &Json, branch_id: &str, state: &str, index: usize) {
        let start_at = self.add_scope(scope, branch_id, Some(branch_id));
        self.branches.push(Branch {
            id: branch_id.to_string(),
            state: state.to_string(),
            index,
            start_at,
        });
    }
}

fn array<'a>(state: &'a Json, key: &str) -> &'a [Json] {
    state
        .get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

fn strings(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn retry_rules(state: &Json) -> Vec<RetryRule> {
    array(state, "Retry")
        .iter()
        .map(|r| RetryRule {
            error_equals: strings(r.get("ErrorEquals")),
            interval_seconds: r.get("IntervalSeconds").and_then(Json::as_f64),
            max_attempts: r.get("MaxAttempts").and_then(Json::as_i64),
            backoff_rate: r.get("BackoffRate").and_then(Json::as_f64),
        })
        .collect()
}

/// A Choice rule in readable form: a JSONata `Condition` without its
/// `{% %}`, or a JSONPath comparison as `$.temp > 30`, `And`/`Or`/`Not`
/// combined with `&&`, `||` and `!`.
pub fn choice_label(rule: &Json) -> String {
    if let Some(condition) = rule.get("Condition") {
        return match condition.as_str() {
            Some(text) => text
                .trim()
                .strip_prefix("{%")
                .and_then(|t| t.strip_suffix("%}"))
                .unwrap_or(text)
                .trim()
                .to_string(),
            None => condition.to_string(),
        };
    }
    let Some(object) = rule.as_object() else {
        return rule.to_string();
    };
    let combined = |key: &str, joiner: &str| {
        let parts: Vec<String> = array(rule, key)
            .iter()
            .map(|r| {
                let label = choice_label(r);
                if r.get("And").is_some() || r.get("Or").is_some() {
                    format!("({label})")
                } else {
                    label
                }
            })
            .collect();
        parts.join(joiner)
    };
    if object.contains_key("And") {
        return combined("And", " && ");
    }
    if object.contains_key("Or") {
        return combined("Or", " || ");
    }
    if let Some(inner) = object.get("Not") {
        return format!("!({})", choice_label(inner));
    }
    comparison_label(object)
}

/// `Variable` compared by its one operator.
fn comparison_label(rule: &Map<String, Json>) -> String {
    let variable = rule.get("Variable").and_then(Json::as_str).unwrap_or("?");
    for (key, value) in rule {
        if matches!(key.as_str(), "Variable" | "Next" | "Comment" | "Assign") {
            continue;
        }
        let (operator, is_path) = match key.strip_suffix("Path") {
            Some(op) if op != "Is" && !key.starts_with("Is") => (op, true),
            _ => (key.as_str(), false),
        };
        let operand = match (is_path, value) {
            (true, Json::String(path)) => path.clone(),
            (_, other) => other.to_string(),
        };
        let symbol = [
            ("Equals", "=="),
            ("LessThanEquals", "<="),
            ("GreaterThanEquals", ">="),
            ("LessThan", "<"),
            ("GreaterThan", ">"),
        ]
        .iter()
        .find(|(suffix, _)| {
            ["String", "Numeric", "Boolean", "Timestamp"]
                .iter()
                .any(|t| operator == format!("{t}{suffix}"))
        })
        .map(|(_, s)| *s);
        return match (symbol, operator) {
            (Some(symbol), _) => format!("{variable} {symbol} {operand}"),
            (None, "StringMatches") => format!("{variable} matches {operand}"),
            (_, test) if test.starts_with("Is") => {
                let what = test.trim_start_matches("Is").to_lowercase();
                if value == &Json::Bool(false) {
                    format!("{variable} is not {what}")
                } else {
                    format!("{variable} is {what}")
                }
            }
            (None, other) => format!("{variable} {other} {operand}"),
        };
    }
    variable.to_string()
}

#[cfg(test)]
mod tests;
