//! Syntax tree to evaluation tree.
//!
//! * `a.b.c` becomes one path with three steps; predicates on a step become
//!   its stages; string literals as steps become field names.
//! * `@`, `#` and order-by become annotations and steps of the path.
//! * Each `%` gets a slot that starts one level up and climbs the steps
//!   before it (skipping over steps that bind a focus) until it reaches the
//!   name or wildcard step whose input is the parent; that step records the
//!   slot's label so the tuple stream binds its input under it. A `%` that
//!   cannot be resolved is the error S0217.
//! * Calls in tail position of a lambda body are marked for tail calls.

use super::ast::{BinOp, Group, Kind, Label, LambdaDef, Node, Path, SortTerm, Stage, TransformDef};
use super::error::{JsonataError, Result};
use super::parser::{Expr, ExprKind};
use super::regex::RegexLit;
use crate::value::{Str, Value};
use std::sync::Arc;

/// Compiles a syntax tree.
pub(crate) fn compile(expr: Expr) -> Result<Node> {
    let mut c = Compiler { slots: Vec::new() };
    let mut node = c.process(expr)?;
    if matches!(node.kind, Kind::Parent(_)) || !node.seeking.is_empty() {
        return Err(JsonataError::new("S0217")
            .at(node.pos)
            .token(node.type_name()));
    }
    c.label(&mut node);
    Ok(node)
}

struct ParentSlot {
    label: usize,
    level: usize,
}

struct Compiler {
    slots: Vec<ParentSlot>,
}

fn label_name(label: usize) -> Str {
    Str::from(format!("!{label}"))
}

/// Adds the unresolved parent slots of `child` to `parent`.
fn push_ancestry(parent: &mut Node, child: &Node) {
    parent.seeking.extend_from_slice(&child.seeking);
}

impl Compiler {
    fn process(&mut self, expr: Expr) -> Result<Node> {
        let Expr {
            kind,
            pos,
            keep_array,
        } = expr;
        let mut node = match kind {
            ExprKind::Name(n) => {
                let mut step = Node::new(Kind::Name(Str::from(n)), pos);
                step.keep_array = keep_array;
                let mut path = Node::new(
                    Kind::Path(Box::new(Path {
                        steps: vec![step],
                        keep_singleton: keep_array,
                    })),
                    pos,
                );
                path.keep_array = keep_array;
                return Ok(path);
            }
            ExprKind::Var(n) => {
                let native = super::functions::native(&n);
                Node::new(Kind::Var(Str::from(n), native), pos)
            }
            ExprKind::Str(s) => Node::new(Kind::Str(Str::from(s)), pos),
            ExprKind::Num(n) => Node::new(Kind::Num(n), pos),
            ExprKind::Bool(b) => Node::new(Kind::Bool(b), pos),
            ExprKind::Null => Node::new(Kind::Null, pos),
            ExprKind::Regex { pattern, flags } => {
                let regex = RegexLit::new(&pattern, &flags).map_err(|e| e.at(pos))?;
                Node::new(Kind::Regex(Arc::new(regex)), pos)
            }
            ExprKind::Wildcard => Node::new(Kind::Wildcard, pos),
            ExprKind::Descendant => Node::new(Kind::Descendant, pos),
            ExprKind::Parent => {
                let slot = self.slots.len();
                self.slots.push(ParentSlot {
                    label: slot,
                    level: 1,
                });
                let mut node = Node::new(
                    Kind::Parent(Label {
                        slot,
                        name: Str::default(),
                    }),
                    pos,
                );
                node.seeking.push(slot);
                node
            }
            ExprKind::Neg(e) => {
                let inner = self.process(*e)?;
                if let Kind::Num(n) = inner.kind {
                    Node::new(Kind::Num(-n), pos)
                } else {
                    let mut node = Node::new(Kind::Neg(Box::new(Node::new(Kind::Null, pos))), pos);
                    push_ancestry(&mut node, &inner);
                    node.kind = Kind::Neg(Box::new(inner));
                    node
                }
            }
            ExprKind::Array(items) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let part = self.process(item)?;
                    push_ancestry(&mut node, &part);
                    out.push(part);
                }
                node.kind = Kind::Array(out);
                node
            }
            ExprKind::Object(pairs) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let k = self.process(k)?;
                    push_ancestry(&mut node, &k);
                    let v = self.process(v)?;
                    push_ancestry(&mut node, &v);
                    out.push((k, v));
                }
                node.kind = Kind::Object(Box::new(Group { pairs: out, pos }));
                node
            }
            ExprKind::Binary(".", lhs, rhs) => self.path_step(*lhs, *rhs, pos)?,
            ExprKind::Binary(op, lhs, rhs) => {
                let op = BinOp::from_symbol(op)
                    .ok_or_else(|| JsonataError::new("S0204").at(pos).token(op))?;
                let l = self.process(*lhs)?;
                let r = self.process(*rhs)?;
                let mut node = Node::new(Kind::Null, pos);
                push_ancestry(&mut node, &l);
                push_ancestry(&mut node, &r);
                node.kind = Kind::Binary(op, Box::new(l), Box::new(r));
                node
            }
            ExprKind::Filter(lhs, rhs) => self.filter(*lhs, *rhs, pos)?,
            ExprKind::Group(lhs, pairs) => {
                let mut result = self.process(*lhs)?;
                if result.group.is_some() {
                    return Err(JsonataError::new("S0210").at(pos));
                }
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    out.push((self.process(k)?, self.process(v)?));
                }
                result.group = Some(Box::new(Group { pairs: out, pos }));
                result
            }
            ExprKind::Sort(lhs, terms) => {
                let result = self.process(*lhs)?;
                let mut path = into_path(result);
                let mut sort = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(terms.len());
                for (descending, e) in terms {
                    let expr = self.process(e)?;
                    push_ancestry(&mut sort, &expr);
                    out.push(SortTerm { descending, expr });
                }
                sort.kind = Kind::Sort(out);
                steps_mut(&mut path).push(sort);
                self.resolve_ancestry(&mut path)?;
                path
            }
            ExprKind::Focus(lhs, name) => {
                let mut result = self.process(*lhs)?;
                let step = last_step(&mut result);
                if !step.stages.is_empty() || !step.predicate.is_empty() {
                    return Err(JsonataError::new("S0215").at(pos).token("@"));
                }
                if matches!(step.kind, Kind::Sort(_)) {
                    return Err(JsonataError::new("S0216").at(pos).token("@"));
                }
                if keep_array {
                    step.keep_array = true;
                }
                step.focus = Some(Str::from(name));
                step.tuple = true;
                return Ok(result);
            }
            ExprKind::Index(lhs, name) => {
                let result = self.process(*lhs)?;
                let mut path = if matches!(result.kind, Kind::Path(_)) {
                    result
                } else {
                    let mut step = result;
                    step.stages = std::mem::take(&mut step.predicate);
                    let seeking = step.seeking.clone();
                    let mut p = path_of(vec![step], pos);
                    p.seeking = seeking;
                    p
                };
                let step = last_step(&mut path);
                if step.stages.is_empty() {
                    step.index = Some(Str::from(name));
                } else {
                    step.stages.push(Stage::Index(Str::from(name)));
                }
                step.tuple = true;
                path
            }
            ExprKind::Bind(name, rhs) => {
                let value = self.process(*rhs)?;
                let mut node = Node::new(Kind::Null, pos);
                push_ancestry(&mut node, &value);
                node.kind = Kind::Bind(Str::from(name), Box::new(value));
                node
            }
            ExprKind::Apply(lhs, rhs) => {
                let l = self.process(*lhs)?;
                let r = self.process(*rhs)?;
                let mut node = Node::new(Kind::Null, pos);
                node.keep_array = l.keep_array || r.keep_array;
                node.kind = Kind::Apply(Box::new(l), Box::new(r));
                node
            }
            ExprKind::Call(proc, args) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(args.len());
                for arg in args {
                    let a = self.process(arg)?;
                    push_ancestry(&mut node, &a);
                    out.push(a);
                }
                let proc = self.process(*proc)?;
                node.kind = Kind::Call {
                    proc: Box::new(proc),
                    args: out,
                    tail: false,
                };
                node
            }
            ExprKind::Partial(proc, args) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(args.len());
                for arg in args {
                    match arg {
                        Some(arg) => {
                            let a = self.process(arg)?;
                            push_ancestry(&mut node, &a);
                            out.push(Some(a));
                        }
                        None => out.push(None),
                    }
                }
                let proc = self.process(*proc)?;
                node.kind = Kind::Partial {
                    proc: Box::new(proc),
                    args: out,
                };
                node
            }
            ExprKind::Lambda {
                params,
                signature,
                body,
            } => {
                let mut body = self.process(*body)?;
                mark_tail_calls(&mut body);
                self.label(&mut body);
                Node::new(
                    Kind::Lambda(Arc::new(LambdaDef {
                        params: params.into_iter().map(Str::from).collect(),
                        signature,
                        body,
                    })),
                    pos,
                )
            }
            ExprKind::Cond(c, t, e) => {
                let mut node = Node::new(Kind::Null, pos);
                let c = self.process(*c)?;
                push_ancestry(&mut node, &c);
                let t = self.process(*t)?;
                push_ancestry(&mut node, &t);
                let e = match e {
                    Some(e) => {
                        let e = self.process(*e)?;
                        push_ancestry(&mut node, &e);
                        Some(Box::new(e))
                    }
                    None => None,
                };
                node.kind = Kind::Cond(Box::new(c), Box::new(t), e);
                node
            }
            ExprKind::Elvis(l, r) => {
                let (l, r, mut node) = self.pair(*l, *r, pos)?;
                node.kind = Kind::Elvis(Box::new(l), Box::new(r));
                node
            }
            ExprKind::Coalesce(l, r) => {
                let (l, r, mut node) = self.pair(*l, *r, pos)?;
                node.kind = Kind::Coalesce(Box::new(l), Box::new(r));
                node
            }
            ExprKind::Block(items) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let part = self.process(item)?;
                    push_ancestry(&mut node, &part);
                    let cons = part.cons_array
                        || matches!(&part.kind, Kind::Path(p) if p.steps[0].cons_array);
                    if cons {
                        node.cons_array = true;
                    }
                    out.push(part);
                }
                node.kind = Kind::Block(out);
                node
            }
            ExprKind::Transform(pattern, update, delete) => {
                let mut pattern = self.process(*pattern)?;
                let mut update = self.process(*update)?;
                let mut delete = match delete {
                    Some(d) => Some(self.process(*d)?),
                    None => None,
                };
                self.label(&mut pattern);
                self.label(&mut update);
                if let Some(d) = &mut delete {
                    self.label(d);
                }
                Node::new(
                    Kind::Transform(Arc::new(TransformDef {
                        pattern,
                        update,
                        delete,
                    })),
                    pos,
                )
            }
        };
        if keep_array {
            node.keep_array = true;
        }
        Ok(node)
    }

    /// Processes two operands and a node that collects their ancestry.
    fn pair(&mut self, l: Expr, r: Expr, pos: usize) -> Result<(Node, Node, Node)> {
        let l = self.process(l)?;
        let r = self.process(r)?;
        let mut node = Node::new(Kind::Null, pos);
        push_ancestry(&mut node, &l);
        push_ancestry(&mut node, &r);
        Ok((l, r, node))
    }

    /// `lhs.rhs`: appends the steps of `rhs` to the path of `lhs`.
    fn path_step(&mut self, lhs: Expr, rhs: Expr, pos: usize) -> Result<Node> {
        let lstep = self.process(lhs)?;
        let mut result = if matches!(lstep.kind, Kind::Path(_)) {
            lstep
        } else {
            let seeking = if matches!(lstep.kind, Kind::Parent(_)) {
                lstep.seeking.clone()
            } else {
                Vec::new()
            };
            let mut p = path_of(vec![lstep], pos);
            p.seeking = seeking;
            p
        };
        let rest = self.process(rhs)?;
        match rest.kind {
            Kind::Path(p) => steps_mut(&mut result).extend(p.steps),
            _ => {
                let mut rest = rest;
                rest.stages = std::mem::take(&mut rest.predicate);
                steps_mut(&mut result).push(rest);
            }
        }
        let steps = steps_mut(&mut result);
        for step in steps.iter_mut() {
            match &step.kind {
                Kind::Num(n) => {
                    return Err(JsonataError::new("S0213")
                        .at(step.pos)
                        .token(super::numfmt::format_number(*n))
                        .value(Value::from(*n)));
                }
                Kind::Bool(b) => {
                    return Err(JsonataError::new("S0213")
                        .at(step.pos)
                        .token(b.to_string())
                        .value(Value::Bool(*b)));
                }
                Kind::Null => {
                    return Err(JsonataError::new("S0213")
                        .at(step.pos)
                        .token("null")
                        .value(Value::Null));
                }
                Kind::Str(s) => step.kind = Kind::Name(s.clone()),
                _ => {}
            }
        }
        let keep = steps.iter().any(|s| s.keep_array);
        if matches!(steps[0].kind, Kind::Array(_)) {
            steps[0].cons_array = true;
        }
        let last = steps.len() - 1;
        if matches!(steps[last].kind, Kind::Array(_)) {
            steps[last].cons_array = true;
        }
        if let Kind::Path(p) = &mut result.kind {
            p.keep_singleton |= keep;
        }
        self.resolve_ancestry(&mut result)?;
        Ok(result)
    }

    /// `lhs[rhs]`: a stage on the last step of a path, or a predicate on
    /// any other expression.
    fn filter(&mut self, lhs: Expr, rhs: Expr, pos: usize) -> Result<Node> {
        let mut result = self.process(lhs)?;
        let is_path = matches!(result.kind, Kind::Path(_));
        let predicate = self.process(rhs)?;
        let step = last_step(&mut result);
        if step.group.is_some() {
            return Err(JsonataError::new("S0209").at(pos));
        }
        for &slot in &predicate.seeking {
            if self.slots[slot].level == 1 {
                self.seek_parent(step, slot)?;
            } else {
                self.slots[slot].level -= 1;
            }
        }
        push_ancestry(step, &predicate);
        if is_path {
            step.stages.push(Stage::Filter(predicate));
        } else {
            step.predicate.push(Stage::Filter(predicate));
        }
        Ok(result)
    }

    /// Climbs from `node` towards the step whose input the slot's `%` means.
    fn seek_parent(&mut self, node: &mut Node, slot: usize) -> Result<()> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                self.slots[slot].level -= 1;
                if self.slots[slot].level == 0 {
                    if let Some(existing) = &node.ancestor {
                        self.slots[slot].label = self.slots[existing.slot].label;
                    }
                    node.ancestor = Some(Label {
                        slot,
                        name: Str::default(),
                    });
                    node.tuple = true;
                }
            }
            Kind::Parent(_) => self.slots[slot].level += 1,
            Kind::Block(items) => {
                if let Some(last) = items.last_mut() {
                    node.tuple = true;
                    self.seek_parent(last, slot)?;
                }
            }
            Kind::Path(p) => {
                node.tuple = true;
                let mut index = p.steps.len();
                loop {
                    index -= 1;
                    self.seek_parent(&mut p.steps[index], slot)?;
                    if self.slots[slot].level == 0 || index == 0 {
                        break;
                    }
                }
            }
            _ => {
                return Err(JsonataError::new("S0217")
                    .at(node.pos)
                    .token(node.type_name()));
            }
        }
        Ok(())
    }

    /// Resolves the parent slots sought by the last step of a path against
    /// the steps before it; unresolved ones are passed up to the path.
    fn resolve_ancestry(&mut self, path: &mut Node) -> Result<()> {
        let Kind::Path(p) = &mut path.kind else {
            return Ok(());
        };
        let Some(last) = p.steps.last() else {
            return Ok(());
        };
        let slots = last.seeking.clone();
        for slot in slots {
            let mut index = p.steps.len() as isize - 2;
            while self.slots[slot].level > 0 {
                if index < 0 {
                    path.seeking.push(slot);
                    break;
                }
                let mut at = index as usize;
                index -= 1;
                while index >= 0
                    && p.steps[at].focus.is_some()
                    && p.steps[index as usize].focus.is_some()
                {
                    at = index as usize;
                    index -= 1;
                }
                self.seek_parent(&mut p.steps[at], slot)?;
            }
        }
        Ok(())
    }

    /// Gives every parent reference and ancestor binding its final label.
    fn label(&self, node: &mut Node) {
        if let Kind::Parent(l) = &mut node.kind {
            l.name = label_name(self.slots[l.slot].label);
        }
        if let Some(l) = &mut node.ancestor {
            l.name = label_name(self.slots[l.slot].label);
        }
        for stage in node.predicate.iter_mut().chain(node.stages.iter_mut()) {
            if let Stage::Filter(n) = stage {
                self.label(n);
            }
        }
        if let Some(g) = &mut node.group {
            for (k, v) in &mut g.pairs {
                self.label(k);
                self.label(v);
            }
        }
        match &mut node.kind {
            Kind::Path(p) => p.steps.iter_mut().for_each(|s| self.label(s)),
            Kind::Neg(n) | Kind::Bind(_, n) => self.label(n),
            Kind::Binary(_, l, r)
            | Kind::Elvis(l, r)
            | Kind::Coalesce(l, r)
            | Kind::Apply(l, r) => {
                self.label(l);
                self.label(r);
            }
            Kind::Array(items) | Kind::Block(items) => items.iter_mut().for_each(|s| self.label(s)),
            Kind::Object(g) => {
                for (k, v) in &mut g.pairs {
                    self.label(k);
                    self.label(v);
                }
            }
            Kind::Cond(c, t, e) => {
                self.label(c);
                self.label(t);
                if let Some(e) = e {
                    self.label(e);
                }
            }
            Kind::Call { proc, args, .. } => {
                self.label(proc);
                args.iter_mut().for_each(|a| self.label(a));
            }
            Kind::Partial { proc, args } => {
                self.label(proc);
                args.iter_mut().flatten().for_each(|a| self.label(a));
            }
            Kind::Sort(terms) => terms.iter_mut().for_each(|t| self.label(&mut t.expr)),
            // labelled when they were built
            Kind::Lambda(_) | Kind::Transform(_) => {}
            Kind::Name(_)
            | Kind::Str(_)
            | Kind::Num(_)
            | Kind::Bool(_)
            | Kind::Null
            | Kind::Regex(_)
            | Kind::Wildcard
            | Kind::Descendant
            | Kind::Parent(_)
            | Kind::Var(..) => {}
        }
    }
}

/// A path node with the given steps.
fn path_of(steps: Vec<Node>, pos: usize) -> Node {
    let keep = steps.iter().any(|s| s.keep_array);
    Node::new(
        Kind::Path(Box::new(Path {
            steps,
            keep_singleton: keep,
        })),
        pos,
    )
}

/// The node as a path (wrapped in one unless it is one).
fn into_path(node: Node) -> Node {
    if matches!(node.kind, Kind::Path(_)) {
        node
    } else {
        let pos = node.pos;
        path_of(vec![node], pos)
    }
}

fn steps_mut(path: &mut Node) -> &mut Vec<Node> {
    match &mut path.kind {
        Kind::Path(p) => &mut p.steps,
        _ => unreachable!("steps_mut on a path"),
    }
}

/// The last step of a path, or the node itself.
fn last_step(node: &mut Node) -> &mut Node {
    if matches!(node.kind, Kind::Path(_)) {
        steps_mut(node).last_mut().expect("paths have steps")
    } else {
        node
    }
}

/// Marks the calls in tail position of a lambda body.
fn mark_tail_calls(node: &mut Node) {
    if !node.predicate.is_empty() || node.group.is_some() || node.keep_array {
        return;
    }
    match &mut node.kind {
        Kind::Call { tail, .. } => *tail = true,
        Kind::Cond(_, t, e) => {
            mark_tail_calls(t);
            if let Some(e) = e {
                mark_tail_calls(e);
            }
        }
        Kind::Elvis(_, r) | Kind::Coalesce(_, r) => mark_tail_calls(r),
        Kind::Block(items) => {
            if let Some(last) = items.last_mut() {
                mark_tail_calls(last);
            }
        }
        _ => {}
    }
}
