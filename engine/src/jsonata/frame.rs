//! Variable scopes. A frame holds the bindings made in one block, lambda call
//! or tuple; lookups walk outwards through the enclosing frames. Closures keep
//! their defining frame alive through the `Rc`.
//!
//! A closure bound in its own frame (`$f := function(){ ... }` in a block)
//! makes an `Rc` cycle: the frame holds the function, the function its
//! frame. No cycle outlives its evaluation, though: every frame given a
//! value that can hold a closure is noted in this thread's [`Arena`], and
//! when the evaluation ends the arena empties those frames, which breaks
//! every cycle (the result has been turned into JSON by then, so no closure
//! is left to need them).

use super::val::{Func, Val};
use crate::value::Str;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// One scope.
pub(crate) struct Frame {
    vars: RefCell<Vec<(Str, Val)>>,
    parent: Option<Rc<Frame>>,
    /// Noted in the arena already.
    noted: Cell<bool>,
}

thread_local! {
    /// Frames given a value that can hold a closure, by the evaluations
    /// running on this thread (innermost last).
    static NOTED: RefCell<Vec<Weak<Frame>>> = const { RefCell::new(Vec::new()) };
    /// Where the innermost evaluation's part of `NOTED` starts.
    static MARK: Cell<usize> = const { Cell::new(0) };
    /// `NOTED`'s length at which dead entries are next dropped from it.
    static PRUNE_AT: Cell<usize> = const { Cell::new(PRUNE_MIN) };
    /// Frames alive on this thread.
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// The smallest length of `NOTED` at which dead entries are dropped.
const PRUNE_MIN: usize = 64;

/// Frames alive on this thread: zero whenever no evaluation is running on
/// it, since every evaluation frees all of its frames, cycles included.
pub fn live_frames() -> usize {
    LIVE.with(Cell::get)
}

/// The frames of one evaluation that may sit in a cycle; emptied on drop.
/// Evaluations on one thread nest (each opens its arena after and drops it
/// before the enclosing one's), so each owns the tail of `NOTED`.
pub(crate) struct Arena {
    outer_mark: usize,
}

impl Arena {
    /// Opens the arena of an evaluation starting now.
    pub fn open() -> Arena {
        let start = NOTED.with_borrow(Vec::len);
        Arena {
            outer_mark: MARK.replace(start),
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let start = MARK.replace(self.outer_mark);
        let noted = NOTED.with_borrow_mut(|noted| noted.split_off(start.min(noted.len())));
        // Dropped outside the borrow of `NOTED`: what the frames hold may
        // drop further frames.
        let mut held = Vec::new();
        for frame in noted.iter().filter_map(Weak::upgrade) {
            held.append(frame.vars.borrow_mut().as_mut());
        }
        drop(held);
    }
}

impl Frame {
    fn new(vars: Vec<(Str, Val)>, parent: Option<Rc<Frame>>) -> Rc<Frame> {
        LIVE.with(|live| live.set(live.get() + 1));
        let frame = Rc::new(Frame {
            vars: RefCell::new(vars),
            parent,
            noted: Cell::new(false),
        });
        if frame.vars.borrow().iter().any(|(_, v)| may_own_frames(v)) {
            frame.note();
        }
        frame
    }

    /// The outermost scope.
    pub fn root() -> Rc<Frame> {
        Frame::new(Vec::new(), None)
    }

    /// A new scope inside `parent`.
    pub fn child(parent: &Rc<Frame>) -> Rc<Frame> {
        Frame::new(Vec::new(), Some(parent.clone()))
    }

    /// A new scope inside `parent` with the given bindings.
    pub fn with(parent: &Rc<Frame>, vars: Vec<(Str, Val)>) -> Rc<Frame> {
        Frame::new(vars, Some(parent.clone()))
    }

    /// Binds (or rebinds) `name` in this scope.
    pub fn bind(self: &Rc<Frame>, name: Str, value: Val) {
        if may_own_frames(&value) {
            self.note();
        }
        let mut vars = self.vars.borrow_mut();
        match vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => vars.push((name, value)),
        }
    }

    /// Notes this frame in the running evaluation's [`Arena`] (once).
    fn note(self: &Rc<Frame>) {
        if self.noted.replace(true) {
            return;
        }
        NOTED.with_borrow_mut(|noted| {
            if noted.len() >= PRUNE_AT.get() {
                // only the running evaluation's part: the others' marks stay
                let start = MARK.get().min(noted.len());
                let mut own = noted.split_off(start);
                own.retain(|frame| frame.strong_count() > 0);
                noted.append(&mut own);
                PRUNE_AT.set((2 * noted.len()).max(PRUNE_MIN));
            }
            noted.push(Rc::downgrade(self));
        });
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
        let _ = LIVE.try_with(|live| live.set(live.get() - 1));
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
    use super::live_frames;
    use crate::jsonata::{Jsonata, Limits, NoBindings};

    #[test]
    fn closures_bound_in_their_own_frame_are_freed_with_the_evaluation() {
        let fuzz_crash = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/corpus/jsonata_eval/leak-closure-cycle"
        ))
        .expect("the fuzz corpus has the leak's input");
        // the expression is what comes before the NUL byte
        let fuzz_crash = String::from_utf8(fuzz_crash).unwrap();
        let fuzz_crash = fuzz_crash.split('\0').next().unwrap();
        for source in [
            fuzz_crash,
            "($f := function($x){ $x + 1 }; $f(1))",
            "($fact := function($n){ $n <= 1 ? 1 : $n * $fact($n - 1) }; $fact(10))",
            "($g := function(){ function($y){ $y } }; $h := $g(); [$h][0](2))",
            "[1,2,3].($f := function($v){ $v }; $f($))",
            "($a := [function(){1}]; $o := {'f': $a}; $o.f[0]())",
            "$reduce([1..50], function($acc, $v){ ($k := function(){ $acc }; $k) }, 0)()",
            "($f := function($x){ $x }; $error('fails with the cycle made'))",
        ] {
            let expr = Jsonata::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(live_frames(), 0, "{source}: before");
            let input = crate::json!({"x": [1, 2]});
            let _ = expr.evaluate(Some(&input), &NoBindings, &Limits::default());
            assert_eq!(live_frames(), 0, "{source}: frames left alive");
        }
    }

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
