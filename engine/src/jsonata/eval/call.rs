//! Function calls: invocation, the apply loop that runs tail calls without
//! growing the stack, partial application and the `~>` operator.

use super::Evaluator;
use crate::jsonata::ast::{Kind, Node};
use crate::jsonata::error::{JsonataError, Result};
use crate::jsonata::frame::Frame;
use crate::jsonata::regex;
use crate::jsonata::val::{Func, Val};
use crate::value::Str;
use std::rc::Rc;

/// A call in tail position, made by the apply loop of the enclosing call.
#[derive(Clone)]
pub(crate) struct TailCall {
    pub func: Val,
    pub args: Vec<Val>,
    pub context: Val,
    /// The name the function was called by, for errors.
    pub name: Str,
    pub pos: usize,
}

/// The name a function is called by: the variable or field name.
fn proc_name(proc: &Node) -> Str {
    match &proc.kind {
        Kind::Var(n, _) => n.clone(),
        Kind::Path(p) => match &p.steps[0].kind {
            Kind::Name(n) => n.clone(),
            _ => Str::default(),
        },
        _ => Str::default(),
    }
}

impl<'h> Evaluator<'h> {
    /// Whether calling `proc` found nothing although a variable of that
    /// name exists (`sum(x)` for `$sum(x)`): the T1005/T1007 hint.
    fn missing_dollar(&self, proc: &Node, func: &Val, env: &Rc<Frame>) -> Option<Str> {
        if !func.is_undef() {
            return None;
        }
        let Kind::Path(p) = &proc.kind else {
            return None;
        };
        let Kind::Name(n) = &p.steps[0].kind else {
            return None;
        };
        (!self.lookup_var(n, env).is_undef()).then(|| n.clone())
    }

    /// Evaluates a call; `first` is the left side of `~>`, inserted as the
    /// first argument.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call(
        &mut self,
        node: &Node,
        proc: &Node,
        args: &[Node],
        tail: bool,
        input: &Val,
        env: &Rc<Frame>,
        first: Option<Val>,
    ) -> Result<Val> {
        let func = self.eval(proc, input, env)?;
        if let Some(name) = self.missing_dollar(proc, &func, env) {
            return Err(JsonataError::new("T1005").at(node.pos).token(name.as_str()));
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        if let Some(f) = first {
            vals.push(f);
        }
        for a in args {
            vals.push(self.eval(a, input, env)?);
        }
        let name = proc_name(proc);
        if tail && func.is_func() {
            return Ok(Val::Tail(Box::new(TailCall {
                func,
                args: vals,
                context: input.clone(),
                name,
                pos: node.pos,
            })));
        }
        let outer = self.call_scope.replace(env.clone());
        let result = self.apply(&func, vals, input);
        self.call_scope = outer;
        result.map_err(|e| e.or_at(node.pos).or_token(&name))
    }

    /// Calls a function and runs any tail calls it returns.
    pub fn apply(&mut self, func: &Val, args: Vec<Val>, context: &Val) -> Result<Val> {
        let mut result = self.apply_inner(func, args, context)?;
        while let Val::Tail(t) = result {
            let TailCall {
                func,
                args,
                context,
                name,
                pos,
            } = *t;
            result = self
                .apply_inner(&func, args, &context)
                .map_err(|e| e.or_at(pos).or_token(&name))?;
        }
        Ok(result)
    }

    /// Calls a function once; a lambda may return a pending tail call.
    fn apply_inner(&mut self, func: &Val, args: Vec<Val>, context: &Val) -> Result<Val> {
        let Val::Func(f) = func else {
            return Err(JsonataError::new("T1006"));
        };
        match &**f {
            Func::Lambda { def, env, input } => {
                let args = match &def.signature {
                    Some(sig) => sig.validate(args, context)?,
                    None => args,
                };
                let mut args = args.into_iter();
                let vars = def
                    .params
                    .iter()
                    .map(|p| (p.clone(), args.next().unwrap_or_default()))
                    .collect();
                let frame = Frame::with(env, vars);
                self.eval(&def.body, input, &frame)
            }
            Func::Native(native) => {
                let args = native.signature().validate(args, context)?;
                let result = (native.imp)(self, args, context)?;
                if native.builds {
                    self.built(result)
                } else {
                    Ok(result)
                }
            }
            Func::Partial { func, args: fixed } => {
                let mut given = args.into_iter();
                let full = fixed
                    .iter()
                    .map(|a| match a {
                        Some(v) => v.clone(),
                        None => given.next().unwrap_or_default(),
                    })
                    .collect();
                self.apply(func, full, context)
            }
            Func::Regex(re) => {
                let text = args.into_iter().next().unwrap_or_default();
                match text.as_str() {
                    Some(s) => Ok(regex::match_object(re, s, 0)),
                    None => Ok(Val::Undef),
                }
            }
            Func::MatchNext {
                regex: re,
                text,
                from,
            } => regex::next_match(re, text, *from),
            Func::Transform { def, env } => {
                let target = args.into_iter().next().unwrap_or_default();
                let result = self.transform(def, env, target)?;
                self.built(result)
            }
            Func::Compose(f, g) => {
                let r = self.apply(f, args, context)?;
                self.apply(g, vec![r], context)
            }
        }
    }

    /// `proc(a, ?, c)`: a function waiting for the `?` arguments.
    pub(super) fn partial(
        &mut self,
        node: &Node,
        proc: &Node,
        args: &[Option<Node>],
        input: &Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(match a {
                Some(n) => Some(self.eval(n, input, env)?),
                None => None,
            });
        }
        let func = self.eval(proc, input, env)?;
        if let Some(name) = self.missing_dollar(proc, &func, env) {
            return Err(JsonataError::new("T1007").at(node.pos).token(name.as_str()));
        }
        if !func.is_func() {
            return Err(JsonataError::new("T1008")
                .at(node.pos)
                .token(proc_name(proc).as_str()));
        }
        Ok(Val::Func(Rc::new(Func::Partial { func, args: vals })))
    }

    /// `lhs ~> rhs`: calls `rhs` with `lhs` first, or composes two functions.
    pub(super) fn apply_chain(
        &mut self,
        node: &Node,
        l: &Node,
        r: &Node,
        input: &Val,
        env: &Rc<Frame>,
    ) -> Result<Val> {
        let lhs = self.eval(l, input, env)?;
        if let Kind::Call { proc, args, .. } = &r.kind {
            return self.call(r, proc, args, false, input, env, Some(lhs));
        }
        let func = self.eval(r, input, env)?;
        if !func.is_func() {
            return Err(JsonataError::new("T2006").at(node.pos).value(func.detail()));
        }
        if lhs.is_func() {
            return Ok(Val::Func(Rc::new(Func::Compose(lhs, func))));
        }
        self.apply(&func, vec![lhs], &Val::Undef)
            .map_err(|e| e.or_at(node.pos))
    }

    /// Calls a function given to a higher-order function with as many of
    /// (value, index, array) as it declares parameters.
    pub fn call_hof(&mut self, func: &Val, value: Val, index: usize, array: &Val) -> Result<Val> {
        let arity = func.as_func().map_or(1, |f| f.arity());
        let mut args = vec![value];
        if arity >= 2 {
            args.push(Val::from(index as f64));
        }
        if arity >= 3 {
            args.push(array.clone());
        }
        self.apply(func, args, &Val::Undef)
    }
}
