//! Values built by an evaluation, held to the byte budget and the nesting
//! limit of its [`Limits`](crate::jsonata::Limits).

use super::Evaluator;
use crate::jsonata::error::Result;
use crate::jsonata::limits::{ENTRY_BYTES, SLOT_BYTES, too_deep};
use crate::jsonata::val::Val;
use crate::value::Value;

/// A member met while measuring the nesting of a value.
#[derive(Clone, Copy)]
enum Member<'a> {
    Val(&'a Val),
    Json(&'a Value),
}

impl<'a> Member<'a> {
    fn is_container(self) -> bool {
        match self {
            Member::Json(v) | Member::Val(Val::J(v)) => {
                matches!(v, Value::Array(_) | Value::Object(_))
            }
            Member::Val(v) => matches!(v, Val::Arr(_) | Val::Obj(_) | Val::Tuples(_)),
        }
    }

    /// Pushes the members that are containers onto `pending` at `depth`;
    /// returns the number of members looked at.
    fn push_containers(self, pending: &mut Vec<(Member<'a>, usize)>, depth: usize) -> usize {
        let mut push = |m: Member<'a>| {
            if m.is_container() {
                pending.push((m, depth));
            }
        };
        match self {
            Member::Json(v) | Member::Val(Val::J(v)) => match v {
                Value::Array(items) => {
                    items.iter().for_each(|i| push(Member::Json(i)));
                    items.len()
                }
                Value::Object(map) => {
                    map.values().for_each(|i| push(Member::Json(i)));
                    map.len()
                }
                _ => 0,
            },
            Member::Val(Val::Arr(a)) => {
                a.items.iter().for_each(|i| push(Member::Val(i)));
                a.items.len()
            }
            Member::Val(Val::Obj(entries)) => {
                entries.iter().for_each(|(_, v)| push(Member::Val(v)));
                entries.len()
            }
            Member::Val(Val::Tuples(t)) => {
                t.iter().for_each(|t| push(Member::Val(&t.at)));
                t.len()
            }
            Member::Val(_) => 0,
        }
    }
}

/// What `v` itself counts against the byte budget: not the members it
/// shares with values that were counted when they were built.
fn own_bytes(v: &Val) -> usize {
    let keys = |keys: &mut dyn Iterator<Item = usize>| keys.sum::<usize>();
    match v {
        Val::J(Value::String(s)) => s.len(),
        Val::J(Value::Array(items)) => items.len() * SLOT_BYTES,
        Val::J(Value::Object(map)) => {
            map.len() * ENTRY_BYTES + keys(&mut map.keys().map(|k| k.len()))
        }
        Val::Arr(a) => a.items.len() * SLOT_BYTES,
        Val::Obj(entries) => {
            entries.len() * ENTRY_BYTES + keys(&mut entries.iter().map(|(k, _)| k.len()))
        }
        Val::Tuples(t) => t.len() * SLOT_BYTES,
        _ => 0,
    }
}

/// Members looked at between two calls to `Guard::work` (one unit each).
const MEMBERS_PER_UNIT: usize = 32;

impl Evaluator<'_> {
    /// Counts a value the evaluation has just built against the byte budget
    /// and checks that it is not nested deeper than allowed.
    pub fn built(&mut self, v: Val) -> Result<Val> {
        self.guard.charge(own_bytes(&v))?;
        if Member::Val(&v).is_container() {
            self.check_nesting(&v)?;
        }
        Ok(v)
    }

    /// Fails when `v` nests arrays and objects deeper than the limit. The
    /// walk counts as work, so one over a huge value (or a small one that
    /// shares its parts many times over) still ends at the time limit.
    fn check_nesting(&mut self, v: &Val) -> Result<()> {
        let max = self.guard.max_value_depth;
        let mut pending = Vec::new();
        let (mut next, mut depth) = (Member::Val(v), 1);
        loop {
            if depth > max {
                return Err(too_deep(max));
            }
            let looked_at = next.push_containers(&mut pending, depth + 1);
            self.guard.work((looked_at / MEMBERS_PER_UNIT) as u64 + 1)?;
            match pending.pop() {
                Some((m, d)) => (next, depth) = (m, d),
                None => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::jsonata::{Jsonata, LIMIT_EXCEEDED, Limits, NoBindings};
    use crate::value::{MAX_DEPTH, Map, Str, Value};

    fn run(src: &str, limits: &Limits) -> Result<String, String> {
        match Jsonata::compile(src)
            .unwrap()
            .evaluate(None, &NoBindings, limits)
        {
            Ok(v) => Ok(v.map_or("undefined".into(), |v| v.to_json())),
            Err(e) => {
                assert_eq!(e.code, LIMIT_EXCEEDED, "{}", e.message);
                Err(e.message)
            }
        }
    }

    #[test]
    fn values_nest_up_to_the_parser_limit() {
        let limits = Limits::default();
        let nest = |n: usize| {
            format!("$count($reduce([1..{n}], function($acc, $v) {{ {{\"a\": $acc}} }}, {{}}))")
        };
        assert_eq!(run(&nest(MAX_DEPTH - 1), &limits), Ok("1".into()));
        let err = run(&nest(MAX_DEPTH), &limits).unwrap_err();
        assert!(err.contains("nested more than 1024 levels"), "{err}");
        let err = run(
            "$reduce([1..100000], function($acc, $v) { [[$acc]] }, [])",
            &limits,
        )
        .unwrap_err();
        assert!(err.contains("Nesting limit"), "{err}");
    }

    #[test]
    fn functions_that_wrap_their_input_are_held_to_the_nesting_limit() {
        let err = run(
            "$reduce([1..100000], function($acc, $v) { $zip($acc) }, [1])",
            &Limits::default(),
        )
        .unwrap_err();
        assert!(err.contains("Nesting limit"), "{err}");
    }

    #[test]
    fn built_values_count_against_the_budget() {
        let limits = Limits {
            max_value_bytes: 1 << 20,
            ..Limits::default()
        };
        for src in [
            "$pad('x', 1000000000)",
            "$pad('x', -1000000000)",
            "$reduce([1..30], function($acc, $v) { $acc & $acc }, 'x')",
            "$count([1..10000].[1..10000])",
            "( $x := [1..1000]; $count([1..10000].$x) )",
            "$join([1..100000].$string(), 'separator')",
            "$string($reduce([1..40], function($acc, $v) { [$acc, $acc] }, [1]))",
            "$replace('aaaaaaaaaa', 'a', $pad('b', 200000))",
        ] {
            let err = run(src, &limits).unwrap_err();
            assert!(err.contains("Memory limit exceeded"), "{src}: {err}");
        }
        assert_eq!(
            run("$count([1..1000].$range(1, 10))", &limits),
            Ok("10000".into())
        );
    }

    #[test]
    fn merging_many_keys_is_linear_and_stops_at_the_deadline() {
        let objects: Vec<Value> = (0..200_000)
            .map(|i| {
                let mut map = Map::new();
                map.insert(Str::from(i.to_string()), Value::from(i));
                Value::object(map)
            })
            .collect();
        let mut bindings = Map::new();
        bindings.insert("objects".into(), Value::array(objects));
        let merge = Jsonata::compile("$count($keys($merge($objects)))").unwrap();
        let out = merge.evaluate(None, &bindings, &Limits::default()).unwrap();
        assert_eq!(out, Some(Value::from(200_000)));
        // Few evaluation steps: only the loops inside $merge read the clock.
        let past = Limits::default().until(std::time::Instant::now());
        let err = merge.evaluate(None, &bindings, &past).unwrap_err();
        assert_eq!(err.code, LIMIT_EXCEEDED);
        assert!(err.message.contains("timeout"), "{}", err.message);
    }
}
