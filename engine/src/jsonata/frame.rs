//! Variable scopes. A frame holds the bindings made in one block, lambda call
//! or tuple; lookups walk outwards through the enclosing frames. Closures keep
//! their defining frame alive through the `Rc`.

use super::val::Val;
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
