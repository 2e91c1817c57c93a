//! Variable scopes. A frame holds the bindings made in one block, lambda call
//! or tuple; lookups walk outwards through the enclosing frames. Closures keep
//! their defining frame alive through the `Rc`.

use super::val::{Func, Val};
use crate::value::Str;
use std::cell::RefCell;
use std::rc::Rc;

/// One scope.
#[derive(Default)]
pub(crate) struct Frame {
    vars: RefCell<Vec<(Str, Val)>>,
    parent: Option<Rc<Frame>>,
}

impl Frame {
    /// The outermost scope.
    pub fn root() -> Rc<Frame> {
        Rc::new(Frame::default())
    }

    /// A new scope inside `parent`.
    pub fn child(parent: &Rc<Frame>) -> Rc<Frame> {
        Rc::new(Frame {
            vars: RefCell::new(Vec::new()),
            parent: Some(parent.clone()),
        })
    }

    /// A new scope inside `parent` with the given bindings.
    pub fn with(parent: &Rc<Frame>, vars: Vec<(Str, Val)>) -> Rc<Frame> {
        Rc::new(Frame {
            vars: RefCell::new(vars),
            parent: Some(parent.clone()),
        })
    }

    /// Binds (or rebinds) `name` in this scope.
    pub fn bind(&self, name: Str, value: Val) {
        let mut vars = self.vars.borrow_mut();
        match vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => vars.push((name, value)),
        }
    }

    /// The innermost binding of `name`.
    pub fn lookup(&self, name: &str) -> Option<Val> {
        let mut frame = self;
        loop {
            if let Some((_, v)) = frame.vars.borrow().iter().rev().find(|(n, _)| n == name) {
                return Some(v.clone());
            }
            frame = frame.parent.as_deref()?;
        }
    }
}

/// Something a frame being dropped owns that may own further frames.
enum Owned {
    Val(Val),
    Frame(Rc<Frame>),
}

impl Drop for Frame {
    /// A closure keeps its defining frame alive, and that frame the values
    /// bound in it, which may be closures again: `$reduce` building a
    /// function from the previous one makes a chain as long as the loop.
    /// Such a chain is taken apart here one link at a time, so dropping it
    /// does not recurse once per link. Frames that bind only JSON (whose
    /// values drop without recursion) skip all of this.
    fn drop(&mut self) {
        let vars = self.vars.get_mut();
        if !vars.iter().any(|(_, v)| owns_frames(v)) {
            return;
        }
        let mut pending: Vec<Owned> = vars.drain(..).map(|(_, v)| Owned::Val(v)).collect();
        while let Some(next) = pending.pop() {
            match next {
                Owned::Frame(frame) => {
                    if let Ok(mut frame) = Rc::try_unwrap(frame) {
                        let vars = frame.vars.get_mut().drain(..);
                        pending.extend(vars.map(|(_, v)| Owned::Val(v)));
                        pending.extend(frame.parent.take().map(Owned::Frame));
                    }
                }
                Owned::Val(v) => take_apart(v, &mut pending),
            }
        }
    }
}

/// `true` for values that can hold closures (and so frames).
fn may_own_frames(v: &Val) -> bool {
    !matches!(v, Val::Undef | Val::J(_))
}

/// `true` for values that can hold closures and have no other owner, so
/// dropping them drops what they hold (a shared one is only decremented).
fn owns_frames(v: &Val) -> bool {
    match v {
        Val::Func(f) => Rc::strong_count(f) == 1,
        Val::Arr(a) => Rc::strong_count(a) == 1,
        Val::Obj(o) => Rc::strong_count(o) == 1,
        Val::Tuples(t) => Rc::strong_count(t) == 1,
        Val::Tail(_) => true,
        Val::Undef | Val::J(_) => false,
    }
}

/// Moves what an unshared value owns onto `pending`, leaving nothing that
/// would recurse when it drops.
fn take_apart(v: Val, pending: &mut Vec<Owned>) {
    let vals = |items: Vec<Val>, pending: &mut Vec<Owned>| {
        pending.extend(items.into_iter().filter(may_own_frames).map(Owned::Val));
    };
    match v {
        Val::Func(f) => match Rc::try_unwrap(f) {
            Ok(Func::Lambda { env, input, .. }) => {
                pending.push(Owned::Frame(env));
                vals(vec![input], pending);
            }
            Ok(Func::Transform { env, .. }) => pending.push(Owned::Frame(env)),
            Ok(Func::Partial { func, args }) => {
                vals(vec![func], pending);
                vals(args.into_iter().flatten().collect(), pending);
            }
            Ok(Func::Compose(f, g)) => vals(vec![f, g], pending),
            _ => {}
        },
        Val::Arr(a) => {
            if let Ok(a) = Rc::try_unwrap(a) {
                vals(a.items, pending);
            }
        }
        Val::Obj(entries) => {
            if let Ok(entries) = Rc::try_unwrap(entries) {
                vals(entries.into_iter().map(|(_, v)| v).collect(), pending);
            }
        }
        Val::Tuples(tuples) => {
            if let Ok(tuples) = Rc::try_unwrap(tuples) {
                for t in tuples {
                    vals(vec![t.at], pending);
                    vals(t.binds.into_iter().map(|(_, v)| v).collect(), pending);
                }
            }
        }
        Val::Tail(t) => {
            let t = *t;
            vals(vec![t.func, t.context], pending);
            vals(t.args, pending);
        }
        Val::Undef | Val::J(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::jsonata::{Jsonata, Limits, NoBindings};

    #[test]
    fn a_long_chain_of_closures_drops_without_recursion() {
        let expr = Jsonata::compile(
            "$type($reduce([1..300000], function($acc, $v) { function() { $acc } }, 0))",
        )
        .unwrap();
        let limits = Limits {
            max_steps: u64::MAX,
            timeout: None,
            max_value_bytes: usize::MAX,
            ..Limits::default()
        };
        let out = expr.evaluate(None, &NoBindings, &limits).unwrap();
        assert_eq!(out, Some(crate::json!("function")));
    }
}
