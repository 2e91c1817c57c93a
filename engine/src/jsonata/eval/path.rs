//! Paths and what happens along them: steps, field lookup, wildcards,
//! descendants, predicates, tuple streams (`@`, `#`, `%`), order-by and
//! group-by.

use super::Evaluator;
use crate::jsonata::ast::{Group, Kind, Node, Path, SortTerm, Stage};
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::frame::Frame;
use crate::jsonata::functions;
use crate::jsonata::limits::SLOT_BYTES;
use crate::jsonata::val::{CONS, KEEP, KeyIndex, OUTER, SEQ, Tuple, Val};
use crate::value::{Str, Value};
use std::rc::Rc;

/// Field `key` of the context; over an array, of every item, flattened one
/// level.
pub(crate) fn lookup(input: &Val, key: &str) -> Val {
    match input {
        Val::J(Value::Object(m)) => m.get(key).cloned().map_or(Val::Undef, Val::J),
        Val::Obj(_) => input.field(key),
        _ => match input.items() {
            Some(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    let v = lookup(&item, key);
                    match v.items() {
                        Some(inner) => out.extend(inner.iter()),
                        None if v.is_undef() => {}
                        None => out.push(v),
                    }
                }
                Val::seq(out)
            }
            None => Val::Undef,
        },
    }
}

/// Flattens nested arrays completely.
fn flatten_into(v: Val, out: &mut Vec<Val>) {
    match v.items() {
        Some(items) => items.iter().for_each(|i| flatten_into(i, out)),
        None => out.push(v),
    }
}

/// `*`: the values of the context object, arrays flattened.
pub(crate) fn wildcard(input: &Val) -> Val {
    let mut target = input;
    let first;
    if input.flags() & OUTER != 0 {
        first = input.items().and_then(|i| i.get(0)).unwrap_or_default();
        target = &first;
    }
    let mut out = Vec::new();
    let values: Vec<Val> = match target.items() {
        Some(items) => items.iter().collect(),
        None => target.entries().into_iter().map(|(_, v)| v).collect(),
    };
    for v in values {
        if v.is_array() {
            flatten_into(v, &mut out);
        } else {
            out.push(v);
        }
    }
    Val::seq(out)
}

/// `**`: the context and everything below it, depth first.
pub(crate) fn descendants(input: &Val) -> Val {
    if input.is_undef() {
        return Val::Undef;
    }
    let mut out = Vec::new();
    collect_descendants(input, &mut out);
    if out.len() == 1 {
        return out.pop().unwrap_or_default();
    }
    Val::seq(out)
}

fn collect_descendants(v: &Val, out: &mut Vec<Val>) {
    if let Some(items) = v.items() {
        for item in items.iter() {
            collect_descendants(&item, out);
        }
        return;
    }
    out.push(v.clone());
    if v.is_object() {
        for (_, child) in v.entries() {
            collect_descendants(&child, out);
        }
    }
}

/// JSONata's `$append`: concatenates, treating non-arrays as one item.
pub(crate) fn append(a: Val, b: Val) -> Val {
    if a.is_undef() {
        return b;
    }
    if b.is_undef() {
        return a;
    }
    let mut items = a.to_list();
    items.extend(b.to_list());
    Val::array(items)
}

/// Items of a filter or sort: plain values or tuples.
trait Item: Clone {
    fn context(&self) -> &Val;
    fn scope(&self, env: &Rc<Frame>) -> Rc<Frame>;
}

impl Item for Val {
    fn context(&self) -> &Val {
        self
    }
    fn scope(&self, env: &Rc<Frame>) -> Rc<Frame> {
        env.clone()
    }
}

impl Item for Tuple {
    fn context(&self) -> &Val {
        &self.at
    }
    fn scope(&self, env: &Rc<Frame>) -> Rc<Frame> {
        Frame::with(env, self.binds.clone())
    }
}

/// The results of a path step.
enum Stepped {
    /// A sequence of results.
    Items(Vec<Val>),
    /// A sequence of one result (kept out of a vector: the common case).
    One(Val),
    /// A value standing as it is (an array kept whole).
    Whole(Val),
}

impl Stepped {
    fn is_empty(&self) -> bool {
        match self {
            Stepped::Items(items) => items.is_empty(),
            Stepped::One(_) => false,
            Stepped::Whole(v) => v.is_undef() || v.items().is_some_and(|items| items.len() == 0),
        }
    }

    /// As the input of the next step (never `Whole`).
    fn into_sequence(self) -> Stepped {
        match self {
            Stepped::Whole(v) => Stepped::Items(v.to_list()),
            other => other,
        }
    }

    /// The items of a sequence (`Whole` has been turned into items).
    fn as_slice(&self) -> &[Val] {
        match self {
            Stepped::Items(items) => items,
            Stepped::One(v) | Stepped::Whole(v) => std::slice::from_ref(v),
        }
    }

    fn into_items(self) -> Vec<Val> {
        match self {
            Stepped::Items(items) => items,
            Stepped::One(v) => vec![v],
            Stepped::Whole(v) => v.to_list(),
        }
    }
}

/// What a filter selected.
enum Filtered<T> {
    Items(Vec<T>),
    /// A literal index picked an item that is itself an array: that array
    /// is the result.
    Array(Val),
}

impl<'h> Evaluator<'h> {
    pub(super) fn eval_path(
        &mut self,
        node: &Node,
        path: &Path,
        input: &Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        // the sequence the next step runs over
        let mut seq = if input.is_array() && !matches!(path.steps[0].kind, Kind::Var(..)) {
            Stepped::Items(input.to_list())
        } else {
            Stepped::One(input.clone())
        };
        let mut result = Stepped::Items(Vec::new());
        let mut tuples: Option<Vec<Tuple>> = None;
        let last = path.steps.len() - 1;
        for (i, step) in path.steps.iter().enumerate() {
            let in_tuples = tuples.is_some() || step.tuple;
            if i == 0 && step.cons_array {
                let whole =
                    Val::seq(std::mem::replace(&mut seq, Stepped::Items(Vec::new())).into_items());
                result = Stepped::Whole(self.eval(step, &whole, env)?);
            } else if in_tuples {
                tuples = Some(self.tuple_step(step, seq.as_slice(), tuples.take(), env)?);
            } else {
                result = self.step(step, seq.as_slice(), env, i == last)?;
            }
            if !in_tuples && result.is_empty() {
                break;
            }
            if i < last && step.focus.is_none() && !in_tuples {
                seq = std::mem::replace(&mut result, Stepped::Items(Vec::new())).into_sequence();
            }
        }
        let mut group_tuples = None;
        let mut result = match tuples {
            Some(t) => {
                if node.tuple {
                    if node.group.is_some() {
                        group_tuples = Some(t.clone());
                    }
                    Val::Tuples(Rc::new(t))
                } else {
                    let v = Val::seq(t.iter().map(|t| t.at.clone()).collect());
                    group_tuples = Some(t);
                    v
                }
            }
            None => match result {
                Stepped::Whole(v) => v,
                Stepped::One(v) => {
                    if !path.keep_singleton && !node.keep_array && node.group.is_none() {
                        v
                    } else {
                        Val::seq(vec![v])
                    }
                }
                Stepped::Items(mut items) => {
                    if items.len() == 1
                        && !path.keep_singleton
                        && !node.keep_array
                        && node.group.is_none()
                    {
                        items.pop().unwrap_or_default()
                    } else {
                        Val::seq(items)
                    }
                }
            },
        };
        if path.keep_singleton {
            let flags = result.flags();
            if result.is_array() && flags & CONS != 0 && flags & SEQ == 0 {
                result = Val::flagged_array(vec![result], SEQ);
            }
            if let Val::Arr(a) = &mut result {
                Rc::make_mut(a).flags |= KEEP;
            }
        }
        if let Some(group) = &node.group {
            result = match group_tuples {
                Some(t) => self.group_tuples(group, t, env)?,
                None => self.group_values(group, result, env)?,
            };
        }
        Ok(result)
    }

    /// One step over every item of the input sequence, flattening results.
    fn step(&mut self, step: &Node, input: &[Val], env: &Rc<Frame>, last: bool) -> Result<Stepped> {
        if let Kind::Sort(terms) = &step.kind {
            let mut result = self.sort_values(terms, step.pos, input.to_vec(), env)?;
            for stage in &step.stages {
                result = self.filter_stage(stage, result, env)?;
            }
            return Ok(Stepped::Whole(result));
        }
        if let [item] = input {
            let mut r = self.eval(step, item, env)?;
            for stage in &step.stages {
                r = self.filter_stage(stage, r, env)?;
            }
            return Ok(match r.items() {
                _ if r.is_undef() => Stepped::Items(Vec::new()),
                Some(_) if last && !r.is_seq() => Stepped::Whole(r),
                Some(inner) if r.flags() & CONS == 0 => {
                    self.guard.charge(inner.len() * SLOT_BYTES)?;
                    Stepped::Items(inner.iter().collect())
                }
                _ => Stepped::One(r),
            });
        }
        let mut out = Vec::with_capacity(input.len());
        let mut count = 0;
        // the only result, when it is an ordinary array at the last step:
        // then it is the result as it is, not flattened
        let mut only_array = None;
        for item in input {
            let mut r = self.eval(step, item, env)?;
            for stage in &step.stages {
                r = self.filter_stage(stage, r, env)?;
            }
            if r.is_undef() {
                continue;
            }
            count += 1;
            if last && count == 1 && r.is_array() && !r.is_seq() {
                only_array = Some(r.clone());
            }
            match r.items() {
                Some(inner) if r.flags() & CONS == 0 => {
                    self.guard.charge(inner.len() * SLOT_BYTES)?;
                    out.extend(inner.iter());
                }
                _ => {
                    self.guard.charge(SLOT_BYTES)?;
                    out.push(r);
                }
            }
        }
        if count == 1
            && let Some(array) = only_array
        {
            return Ok(Stepped::Whole(array));
        }
        Ok(Stepped::Items(out))
    }

    /// One step in a tuple stream: every tuple is extended with the step's
    /// results and bindings.
    fn tuple_step(
        &mut self,
        step: &Node,
        input: &[Val],
        tuples: Option<Vec<Tuple>>,
        env: &Rc<Frame>,
    ) -> Result<Vec<Tuple>> {
        if let Kind::Sort(terms) = &step.kind {
            let mut result = match tuples {
                Some(t) => self.sort_items(terms, step.pos, t, env)?,
                None => {
                    let sorted = self.sort_items(terms, step.pos, input.to_vec(), env)?;
                    sorted
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let mut t = Tuple {
                                at: v,
                                binds: Vec::new(),
                            };
                            if let Some(ix) = &step.index {
                                t.set(ix, Val::from(i as f64));
                            }
                            t
                        })
                        .collect()
                }
            };
            result = self.tuple_stages(&step.stages, result, env)?;
            return Ok(result);
        }
        let tuples = tuples.unwrap_or_else(|| {
            input
                .iter()
                .cloned()
                .map(|v| Tuple {
                    at: v,
                    binds: Vec::new(),
                })
                .collect()
        });
        let mut out = Vec::new();
        for tb in tuples {
            let scope = Frame::with(env, tb.binds.clone());
            let res = self.eval(step, &tb.at, &scope)?;
            match res {
                Val::Undef => {}
                Val::Tuples(rt) => {
                    self.guard
                        .charge(rt.len() * SLOT_BYTES * (1 + tb.binds.len()))?;
                    for t in rt.iter() {
                        let mut tuple = tb.clone();
                        tuple.at = t.at.clone();
                        for (k, v) in &t.binds {
                            tuple.set(k, v.clone());
                        }
                        out.push(tuple);
                    }
                }
                other => {
                    let items = if other.is_array() {
                        other.to_list()
                    } else {
                        vec![other]
                    };
                    self.guard
                        .charge(items.len() * SLOT_BYTES * (1 + tb.binds.len()))?;
                    for (i, item) in items.into_iter().enumerate() {
                        let mut tuple = tb.clone();
                        match &step.focus {
                            Some(f) => tuple.set(f, item),
                            None => tuple.at = item,
                        }
                        if let Some(ix) = &step.index {
                            tuple.set(ix, Val::from(i as f64));
                        }
                        if let Some(anc) = &step.ancestor {
                            tuple.set(&anc.name, tb.at.clone());
                        }
                        out.push(tuple);
                    }
                }
            }
        }
        self.tuple_stages(&step.stages, out, env)
    }

    fn tuple_stages(
        &mut self,
        stages: &[Stage],
        mut tuples: Vec<Tuple>,
        env: &Rc<Frame>,
    ) -> Result<Vec<Tuple>> {
        for stage in stages {
            match stage {
                Stage::Filter(pred) => {
                    tuples = match self.filter(pred, tuples, env)? {
                        Filtered::Items(t) => t,
                        Filtered::Array(_) => Vec::new(),
                    }
                }
                Stage::Index(name) => {
                    for (i, t) in tuples.iter_mut().enumerate() {
                        t.set(name, Val::from(i as f64));
                    }
                }
            }
        }
        Ok(tuples)
    }

    /// Applies a filter stage to a value (a predicate `[...]`).
    pub(super) fn filter_stage(
        &mut self,
        stage: &Stage,
        input: Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let Stage::Filter(pred) = stage else {
            return Ok(input);
        };
        if let Val::Tuples(t) = input {
            let t = Rc::try_unwrap(t).unwrap_or_else(|t| t.as_ref().clone());
            return Ok(match self.filter(pred, t, env)? {
                Filtered::Items(t) => Val::Tuples(Rc::new(t)),
                Filtered::Array(v) => v,
            });
        }
        let items = match input.items() {
            Some(items) => items.iter().collect(),
            None => vec![input],
        };
        Ok(match self.filter(pred, items, env)? {
            Filtered::Items(v) => Val::seq(v),
            Filtered::Array(v) => v,
        })
    }

    /// Keeps the items selected by `pred`: by position when it gives numbers,
    /// by truth otherwise.
    fn filter<T: Item>(
        &mut self,
        pred: &Node,
        items: Vec<T>,
        env: &Rc<Frame>,
    ) -> Result<Filtered<T>> {
        let len = items.len() as f64;
        let position = |n: f64| {
            let i = n.floor();
            if i < 0.0 { len + i } else { i }
        };
        if let Kind::Num(n) = pred.kind
            && pred.predicate.is_empty()
        {
            let i = position(n);
            if i < 0.0 || i >= len {
                return Ok(Filtered::Items(Vec::new()));
            }
            let item = items[i as usize].clone();
            if item.context().is_array() {
                return Ok(Filtered::Array(item.context().clone()));
            }
            return Ok(Filtered::Items(vec![item]));
        }
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let scope = item.scope(env);
            let res = self.eval(pred, item.context(), &scope)?;
            let numbers: Option<Vec<f64>> = match &res {
                Val::J(Value::Number(n)) => Some(vec![n.as_f64()]),
                other => other
                    .items()
                    .and_then(|items| items.iter().map(|v| v.as_f64()).collect()),
            };
            match numbers {
                Some(ns) => {
                    if ns.into_iter().any(|n| position(n) == index as f64) {
                        out.push(item.clone());
                    }
                }
                None => {
                    if functions::boolean(&res) {
                        out.push(item.clone());
                    }
                }
            }
        }
        Ok(Filtered::Items(out))
    }

    /// Order-by over plain values.
    pub(super) fn sort_values(
        &mut self,
        terms: &[SortTerm],
        pos: usize,
        items: Vec<Val>,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let sorted = self.sort_items(terms, pos, items, env)?;
        Ok(Val::seq(sorted))
    }

    /// Stable order-by: keys are computed once per item and term.
    fn sort_items<T: Item>(
        &mut self,
        terms: &[SortTerm],
        pos: usize,
        items: Vec<T>,
        env: &Rc<Frame>,
    ) -> Result<Vec<T>> {
        if items.len() <= 1 {
            return Ok(items);
        }
        let mut keys: Vec<Vec<Val>> = Vec::with_capacity(items.len());
        for item in &items {
            let scope = item.scope(env);
            let mut k = Vec::with_capacity(terms.len());
            for term in terms {
                k.push(self.eval(&term.expr, item.context(), &scope)?);
            }
            keys.push(k);
        }
        let order: Vec<usize> = (0..items.len()).collect();
        let order = merge_sort(order, &mut |&a: &usize, &b: &usize| {
            for (t, term) in terms.iter().enumerate() {
                let (x, y) = (&keys[a][t], &keys[b][t]);
                let mut comp = match (x, y) {
                    (Val::Undef, Val::Undef) => 0,
                    (Val::Undef, _) => 1,
                    (_, Val::Undef) => -1,
                    _ => {
                        let ok = |v: &Val| v.as_f64().is_some() || v.as_str().is_some();
                        if !ok(x) || !ok(y) {
                            let bad = if ok(x) { y } else { x };
                            return Err(JsonataError::new("T2008").at(pos).value(bad.detail()));
                        }
                        match (x.as_f64(), y.as_f64(), x.as_str(), y.as_str()) {
                            (Some(p), Some(q), _, _) => cmp_f64(p, q),
                            (_, _, Some(p), Some(q)) => cmp_str(p, q),
                            _ => {
                                return Err(JsonataError::new("T2007")
                                    .at(pos)
                                    .value(x.detail())
                                    .extra(
                                        "value2",
                                        y.detail().map_or("undefined".into(), |v| {
                                            crate::jsonata::numfmt::stringify(&v)
                                        }),
                                    ));
                            }
                        }
                    }
                };
                if term.descending {
                    comp = -comp;
                }
                if comp != 0 {
                    return Ok(comp > 0);
                }
            }
            Ok(false)
        })?;
        let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
        Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
    }

    /// Group-by over plain values (also the object constructor).
    pub(super) fn group_values(
        &mut self,
        group: &Group,
        input: Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let mut items = match input.items() {
            Some(items) => items.iter().collect::<Vec<_>>(),
            None => vec![input],
        };
        if items.is_empty() {
            items.push(Val::Undef);
        }
        let groups = self.group_keys(group, &items, env)?;
        let mut entries = Vec::with_capacity(groups.len());
        for (key, (members, pair)) in groups {
            let context = members
                .into_iter()
                .map(|i| items[i].clone())
                .reduce(append)
                .unwrap_or_default();
            let v = self.eval(&group.pairs[pair].1, &context, env)?;
            if !v.is_undef() {
                entries.push((key, v));
            }
        }
        self.built(Val::object(entries))
    }

    /// Group-by over a tuple stream: each group's tuples are merged, their
    /// bindings appended.
    fn group_tuples(&mut self, group: &Group, tuples: Vec<Tuple>, env: &Rc<Frame>) -> Result<Val> {
        let groups = self.group_keys(group, &tuples, env)?;
        let mut entries = Vec::with_capacity(groups.len());
        for (key, (members, pair)) in groups {
            let mut merged = tuples[members[0]].clone();
            for &m in &members[1..] {
                let t = &tuples[m];
                merged.at = append(merged.at, t.at.clone());
                for (k, v) in &t.binds {
                    let prev = merged.get(k).cloned().unwrap_or_default();
                    merged.set(k, append(prev, v.clone()));
                }
            }
            let scope = Frame::with(env, merged.binds);
            let v = self.eval(&group.pairs[pair].1, &merged.at, &scope)?;
            if !v.is_undef() {
                entries.push((key, v));
            }
        }
        self.built(Val::object(entries))
    }

    /// Evaluates the keys for every item: key -> (member indexes, pair index).
    #[allow(clippy::type_complexity)]
    fn group_keys<T: Item>(
        &mut self,
        group: &Group,
        items: &[T],
        env: &Rc<Frame>,
    ) -> Result<Vec<(Str, (Vec<usize>, usize))>> {
        let mut groups: Vec<(Str, (Vec<usize>, usize))> = Vec::new();
        let mut index = KeyIndex::default();
        for (i, item) in items.iter().enumerate() {
            let scope = item.scope(env);
            for (p, (k, _)) in group.pairs.iter().enumerate() {
                let key = self.eval(k, item.context(), &scope)?;
                let key = match &key {
                    Val::Undef => continue,
                    Val::J(Value::String(s)) => s.clone(),
                    other => {
                        return Err(JsonataError::new("T1003")
                            .at(group.pos)
                            .value(other.detail()));
                    }
                };
                match index
                    .find(&key, &groups, |(g, _)| g)
                    .map(|at| &mut groups[at])
                {
                    Some((_, (members, pair))) => {
                        if *pair != p {
                            return Err(JsonataError::new("D1009")
                                .at(group.pos)
                                .value(Value::String(key)));
                        }
                        members.push(i);
                    }
                    None => {
                        groups.push((key, (vec![i], p)));
                        index.pushed(&groups, |(g, _)| g);
                    }
                }
            }
        }
        Ok(groups)
    }
}

fn cmp_f64(a: f64, b: f64) -> i32 {
    if a == b {
        0
    } else if a < b {
        -1
    } else {
        1
    }
}

/// Compares strings by UTF-16 code units, as JavaScript does.
pub(crate) fn cmp_str(a: &str, b: &str) -> i32 {
    match a.encode_utf16().cmp(b.encode_utf16()) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// Stable merge sort with a fallible "a goes after b" comparator (user
/// comparators need not be consistent, so the standard sort is not used).
pub(crate) fn merge_sort<T: Clone>(
    items: Vec<T>,
    after: &mut dyn FnMut(&T, &T) -> Result<bool>,
) -> Result<Vec<T>> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mid = items.len() / 2;
    let right = items[mid..].to_vec();
    let mut left = items;
    left.truncate(mid);
    let left = merge_sort(left, after)?;
    let right = merge_sort(right, after)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if after(&left[i], &right[j])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}
