//! The tree-walking evaluator.
//!
//! [`Evaluator::eval`] evaluates one node against a context value and a
//! scope, then applies the node's predicates and group-by and collapses
//! sequences (JSONata's singleton rules). Paths, operators and calls live in
//! the submodules.

mod budget;
mod call;
mod ops;
mod path;
mod transform;

pub(crate) use call::TailCall;
pub(crate) use path::{append, cmp_str, lookup, merge_sort};

use super::Bindings;
use super::ast::{Kind, Node};
use super::error::{JsonataError, Result};
use super::frame::{Arena, Frame};
use super::functions;
use super::limits::{CLOSURE_BYTES, Guard, Limits};
use super::val::{Func, OUTER, Val, normalize};
use crate::value::Str;
use std::rc::Rc;

/// The state of one evaluation.
pub(crate) struct Evaluator<'h> {
    host: &'h dyn Bindings,
    pub guard: Guard,
    /// The evaluation's timestamp in milliseconds (`$now`, `$millis`), taken
    /// on first use so all calls in one evaluation agree.
    now: Option<i64>,
    /// State of the generator behind `$random()`, `$shuffle` and `$uuid`.
    rng: Option<u64>,
    /// The scope of the innermost call being made (for `$eval`).
    call_scope: Option<Rc<Frame>>,
    /// The input of the whole evaluation (`$$`).
    root: Val,
    /// Empties the frames that may sit in a closure cycle when the
    /// evaluation ends (declared last: dropped after everything above).
    _frames: Arena,
}

impl<'h> Evaluator<'h> {
    pub fn new(host: &'h dyn Bindings, limits: &Limits) -> Evaluator<'h> {
        Evaluator {
            host,
            guard: Guard::new(limits),
            now: None,
            rng: None,
            call_scope: None,
            root: Val::Undef,
            _frames: Arena::open(),
        }
    }

    /// The evaluation's timestamp (milliseconds since the epoch).
    pub fn now_millis(&mut self) -> i64 {
        *self
            .now
            .get_or_insert_with(|| chrono::Utc::now().timestamp_millis())
    }

    /// A pseudo-random 64-bit number (xorshift, seeded from the clock and
    /// the address space layout on first use).
    pub fn next_random(&mut self) -> u64 {
        let state = self.rng.get_or_insert_with(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9e37_79b9_7f4a_7c15);
            let local = 0u8;
            let addr = std::hint::black_box(&local) as *const u8 as u64;
            (t ^ addr.rotate_left(32)) | 1
        });
        let mut x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Evaluates a whole expression against the input (wrapping an array
    /// input so it is treated as one value).
    pub fn run(&mut self, node: &Node, input: Option<Val>) -> Result<Val> {
        let root = Frame::root();
        let input = input.unwrap_or_default();
        self.root = input.clone();
        let input = if input.is_array() && !input.is_seq() {
            Val::flagged_array(vec![input], super::val::SEQ | OUTER)
        } else {
            input
        };
        let result = self.eval(node, &input, &root)?;
        self.finish(result)
    }

    /// Resolves a pending tail call left as the final result.
    fn finish(&mut self, result: Val) -> Result<Val> {
        match result {
            Val::Tail(t) => {
                let t = *t;
                self.apply(&t.func, t.args, &t.context)
                    .map_err(|e| e.or_at(t.pos).or_token(&t.name))
            }
            other => Ok(other),
        }
    }

    /// Evaluates a compiled expression (from `$eval`) in the scope of the
    /// call that is being made.
    pub fn eval_in_call_scope(&mut self, node: &Node, input: &Val) -> Result<Val> {
        let scope = self.call_scope.clone().unwrap_or_else(Frame::root);
        let result = self.eval(node, input, &scope)?;
        self.finish(result)
    }

    /// Evaluates `node` with context `input` in scope `env`.
    pub fn eval(&mut self, node: &Node, input: &Val, env: &Rc<Frame>) -> Result<Val> {
        self.guard.enter()?;
        let result = self.eval_node(node, input, env);
        self.guard.leave();
        result
    }

    /// Evaluates the node itself, then its predicates and group-by, then
    /// collapses a sequence result. Each kind of node is handled by its own
    /// function so this frame stays small (it is on the stack once per
    /// nesting level).
    fn eval_node(&mut self, node: &Node, input: &Val, env: &Rc<Frame>) -> Result<Val> {
        let result = match &node.kind {
            Kind::Path(p) => self.eval_path(node, p, input, env),
            Kind::Name(name) => Ok(path::lookup(input, name)),
            Kind::Str(s) => Ok(Val::str(s.clone())),
            Kind::Num(n) => Ok(Val::from(*n)),
            Kind::Bool(b) => Ok(Val::from(*b)),
            Kind::Null => Ok(Val::J(crate::value::Value::Null)),
            Kind::Regex(r) => Ok(Val::Func(Rc::new(Func::Regex(r.clone())))),
            Kind::Wildcard => Ok(path::wildcard(input)),
            Kind::Descendant => Ok(path::descendants(input)),
            Kind::Parent(label) => Ok(env.lookup(&label.name).unwrap_or_default()),
            Kind::Var(name, native) => Ok(self.variable(name, *native, input, env)),
            Kind::Neg(e) => self.negate(node, e, input, env),
            Kind::Binary(op, l, r) => self.binary(*op, l, r, node.pos, input, env),
            Kind::Array(items) => self.array_constructor(node, items, input, env),
            Kind::Object(group) => self.group_values(group, input.clone(), env),
            Kind::Cond(c, t, e) => self.condition(c, t, e.as_deref(), input, env),
            Kind::Elvis(l, r) => self.elvis(l, r, input, env),
            Kind::Coalesce(l, r) => self.coalesce(l, r, input, env),
            Kind::Block(items) => self.block(items, input, env),
            Kind::Bind(name, e) => self.bind(name, e, input, env),
            Kind::Call { proc, args, tail } => self.call(node, proc, args, *tail, input, env, None),
            Kind::Partial { proc, args } => self.partial(node, proc, args, input, env),
            Kind::Lambda(def) => self.guard.charge(CLOSURE_BYTES).map(|()| {
                Val::Func(Rc::new(Func::Lambda {
                    def: def.clone(),
                    env: env.clone(),
                    input: input.clone(),
                }))
            }),
            Kind::Apply(l, r) => self.apply_chain(node, l, r, input, env),
            Kind::Transform(def) => Ok(Val::Func(Rc::new(Func::Transform {
                def: def.clone(),
                env: env.clone(),
            }))),
            Kind::Sort(terms) => self.sort_values(terms, node.pos, input.to_list(), env),
        };
        let mut result = result?;
        if !node.predicate.is_empty() || node.group.is_some() {
            result = self.post_process(node, result, env)?;
        }
        Ok(normalize(result, node.keep_array))
    }

    #[inline(never)]
    fn post_process(&mut self, node: &Node, mut result: Val, env: &Rc<Frame>) -> Result<Val> {
        for stage in &node.predicate {
            result = self.filter_stage(stage, result, env)?;
        }
        if let Some(group) = &node.group
            && !matches!(node.kind, Kind::Path(_))
        {
            result = self.group_values(group, result, env)?;
        }
        Ok(result)
    }

    #[inline(never)]
    fn negate(&mut self, node: &Node, e: &Node, input: &Val, env: &Rc<Frame>) -> Result<Val> {
        let v = self.eval(e, input, env)?;
        if v.is_undef() {
            return Ok(Val::Undef);
        }
        match v.as_f64() {
            Some(n) => Ok(Val::from(-n)),
            None => Err(JsonataError::new("D1002")
                .at(node.pos)
                .token("-")
                .value(v.detail())),
        }
    }

    #[inline(never)]
    fn condition(
        &mut self,
        c: &Node,
        t: &Node,
        e: Option<&Node>,
        input: &Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let cond = self.eval(c, input, env)?;
        if functions::boolean(&cond) {
            self.eval(t, input, env)
        } else if let Some(e) = e {
            self.eval(e, input, env)
        } else {
            Ok(Val::Undef)
        }
    }

    #[inline(never)]
    fn elvis(&mut self, l: &Node, r: &Node, input: &Val, env: &Rc<Frame>) -> Result<Val> {
        let v = self.eval(l, input, env)?;
        if functions::boolean(&v) {
            Ok(v)
        } else {
            self.eval(r, input, env)
        }
    }

    #[inline(never)]
    fn coalesce(&mut self, l: &Node, r: &Node, input: &Val, env: &Rc<Frame>) -> Result<Val> {
        let v = self.eval(l, input, env)?;
        if v.is_undef() {
            self.eval(r, input, env)
        } else {
            Ok(v)
        }
    }

    #[inline(never)]
    fn block(&mut self, items: &[Node], input: &Val, env: &Rc<Frame>) -> Result<Val> {
        let frame = Frame::child(env);
        let mut last = Val::Undef;
        for item in items {
            last = self.eval(item, input, &frame)?;
        }
        Ok(last)
    }

    #[inline(never)]
    fn bind(&mut self, name: &Str, e: &Node, input: &Val, env: &Rc<Frame>) -> Result<Val> {
        let v = self.eval(e, input, env)?;
        env.bind(name.clone(), v.clone());
        Ok(v)
    }

    /// `$name`: the context for `$`, otherwise the innermost binding, a host
    /// binding or a built-in function.
    fn variable(
        &mut self,
        name: &str,
        native: Option<&'static functions::Native>,
        input: &Val,
        env: &Rc<Frame>,
    ) -> Val {
        if name.is_empty() {
            if input.flags() & OUTER != 0 {
                return input.items().and_then(|i| i.get(0)).unwrap_or_default();
            }
            return input.clone();
        }
        match native {
            Some(f) if !self.host.hides_function(name) => self
                .lookup_binding(name, env)
                .unwrap_or_else(|| Val::Func(Rc::new(Func::Native(f)))),
            _ => self.lookup_binding(name, env).unwrap_or_default(),
        }
    }

    /// A variable bound in scope, the root input (`$$`) or a host binding.
    fn lookup_binding(&self, name: &str, env: &Rc<Frame>) -> Option<Val> {
        if let Some(v) = env.lookup(name) {
            return Some(v);
        }
        if name == "$" {
            return Some(self.root.clone());
        }
        self.host.lookup(name).map(Val::J)
    }

    /// The value of variable `name` (without `$`).
    pub fn lookup_var(&self, name: &str, env: &Rc<Frame>) -> Val {
        if let Some(v) = self.lookup_binding(name, env) {
            return v;
        }
        match functions::native(name) {
            Some(f) if !self.host.hides_function(name) => Val::Func(Rc::new(Func::Native(f))),
            _ => Val::Undef,
        }
    }

    /// `[a, b, ...]`: items are appended (arrays spliced in) except nested
    /// array constructors, which stay arrays.
    fn array_constructor(
        &mut self,
        node: &Node,
        items: &[Node],
        input: &Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let v = self.eval(item, input, env)?;
            if v.is_undef() {
                continue;
            }
            if matches!(item.kind, Kind::Array(_)) {
                out.push(v);
            } else if let Some(inner) = v.items() {
                out.extend(inner.iter());
            } else {
                out.push(v);
            }
        }
        let flags = if node.cons_array { super::val::CONS } else { 0 };
        self.built(Val::flagged_array(out, flags))
    }
}
