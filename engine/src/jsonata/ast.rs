//! The evaluation tree, produced by [`super::compile`] from the syntax tree:
//! paths are flat lists of steps, predicates are attached to the step they
//! filter, parent references (`%`) are resolved to labelled bindings, and
//! calls in tail position are marked.

use super::functions::Native;
use super::regex::RegexLit;
use super::signature::Signature;
use crate::value::Str;
use std::sync::Arc;

/// A node of the evaluation tree with its annotations.
#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    /// Offset in the source (just past the node's token), for errors.
    pub pos: usize,
    /// Keep a singleton sequence result as an array (`[]`).
    pub keep_array: bool,
    /// An array constructor at the start or end of a path: its result is
    /// not flattened into the step results.
    pub cons_array: bool,
    /// The step takes part in a tuple stream (a binding `@`, `#` or an
    /// ancestor for `%` is made at or after it).
    pub tuple: bool,
    /// Filters applied to the whole result (on expressions that are not
    /// path steps).
    pub predicate: Vec<Stage>,
    /// Filters and index bindings applied to each result of a path step.
    pub stages: Vec<Stage>,
    /// A group-by object constructor applied to the result.
    pub group: Option<Box<Group>>,
    /// `@$name`: bind each result to `$name` and keep the input as context.
    pub focus: Option<Str>,
    /// `#$name`: bind the position of each result to `$name`.
    pub index: Option<Str>,
    /// Label under which the input of this step is bound for `%`.
    pub ancestor: Option<Label>,
    /// Unresolved parent slots below this node (compile time only).
    pub seeking: Vec<usize>,
}

/// A binding label for the parent operator (`%`): the slot it was created
/// for while compiling, and the name it is bound under in tuples.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub slot: usize,
    pub name: Str,
}

/// A stage applied to the results of a step.
#[derive(Debug)]
pub(crate) enum Stage {
    /// `[expr]`: index or boolean filter.
    Filter(Node),
    /// `#$name` after a filter.
    Index(Str),
}

/// A group-by: key/value pairs evaluated per group.
#[derive(Debug)]
pub(crate) struct Group {
    pub pairs: Vec<(Node, Node)>,
    pub pos: usize,
}

/// A path: steps evaluated left to right, each on every result of the previous.
#[derive(Debug)]
pub(crate) struct Path {
    pub steps: Vec<Node>,
    /// A step had `[]`: keep singleton results as arrays.
    pub keep_singleton: bool,
}

/// An order-by term.
#[derive(Debug)]
pub(crate) struct SortTerm {
    pub descending: bool,
    pub expr: Node,
}

/// A lambda definition; shared with the closures created from it.
#[derive(Debug)]
pub(crate) struct LambdaDef {
    pub params: Vec<Str>,
    pub signature: Option<Signature>,
    pub body: Node,
}

/// A transform expression; shared with the functions created from it.
#[derive(Debug)]
pub(crate) struct TransformDef {
    pub pattern: Node,
    pub update: Node,
    pub delete: Option<Node>,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    And,
    Or,
    In,
    Range,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Concat => "&",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::In => "in",
            BinOp::Range => "..",
        }
    }

    /// The operator for a symbol.
    pub fn from_symbol(s: &str) -> Option<BinOp> {
        Some(match s {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "=" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "&" => BinOp::Concat,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            "in" => BinOp::In,
            ".." => BinOp::Range,
            _ => return None,
        })
    }
}

/// Node kinds.
#[derive(Debug)]
pub(crate) enum Kind {
    Path(Box<Path>),
    /// A field name (as a path step).
    Name(Str),
    Str(Str),
    Num(f64),
    Bool(bool),
    Null,
    Regex(Arc<RegexLit>),
    Wildcard,
    Descendant,
    /// `%`, resolved to the label of its ancestor binding.
    Parent(Label),
    /// `$name`; `""` is the context, `"$"` the root input. The built-in
    /// function of that name, if any, is resolved at compile time (used
    /// when no scope or host binding has the name).
    Var(Str, Option<&'static Native>),
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    /// Array constructor.
    Array(Vec<Node>),
    /// Object constructor (a group-by over the input).
    Object(Box<Group>),
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    Elvis(Box<Node>, Box<Node>),
    Coalesce(Box<Node>, Box<Node>),
    Block(Vec<Node>),
    Bind(Str, Box<Node>),
    /// A call; `tail` marks a call in tail position of a lambda body.
    Call {
        proc: Box<Node>,
        args: Vec<Node>,
        tail: bool,
    },
    Partial {
        proc: Box<Node>,
        args: Vec<Option<Node>>,
    },
    Lambda(Arc<LambdaDef>),
    Apply(Box<Node>, Box<Node>),
    Transform(Arc<TransformDef>),
    /// Order-by, as a path step.
    Sort(Vec<SortTerm>),
}

impl Node {
    /// A node without annotations.
    pub fn new(kind: Kind, pos: usize) -> Node {
        Node {
            kind,
            pos,
            keep_array: false,
            cons_array: false,
            tuple: false,
            predicate: Vec::new(),
            stages: Vec::new(),
            group: None,
            focus: None,
            index: None,
            ancestor: None,
            seeking: Vec::new(),
        }
    }

    /// The node type name jsonata-js reports in some errors.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Path(_) => "path",
            Kind::Name(_) => "name",
            Kind::Str(_) => "string",
            Kind::Num(_) => "number",
            Kind::Bool(_) | Kind::Null => "value",
            Kind::Regex(_) => "regex",
            Kind::Wildcard => "wildcard",
            Kind::Descendant => "descendant",
            Kind::Parent(_) => "parent",
            Kind::Var(..) => "variable",
            Kind::Neg(_) | Kind::Array(_) | Kind::Object(_) => "unary",
            Kind::Binary(..) => "binary",
            Kind::Cond(..) | Kind::Elvis(..) | Kind::Coalesce(..) => "condition",
            Kind::Block(_) => "block",
            Kind::Bind(..) => "bind",
            Kind::Call { .. } => "function",
            Kind::Partial { .. } => "partial",
            Kind::Lambda(_) => "lambda",
            Kind::Apply(..) => "apply",
            Kind::Transform(_) => "transform",
            Kind::Sort(_) => "sort",
        }
    }
}
