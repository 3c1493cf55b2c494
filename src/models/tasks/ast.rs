//! The task language as written: statements and expressions with their spans in the
//! program text, before names are resolved.

use super::value::BinOp;
use std::ops::Range;

/// A name as written, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The text.
    pub text: String,
    /// Its byte range in the program text.
    pub span: Range<usize>,
}

/// An expression and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Its byte range in the program text.
    pub span: Range<usize>,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal.
    Int(i64),
    /// A string literal.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `none`.
    None,
    /// `{}`: an empty map.
    EmptyMap,
    /// `[a, b]`: a list.
    List(Vec<Expr>),
    /// A variable.
    Name(Name),
    /// `service.variable` (in final checks: a service's state).
    Field(Name, Name),
    /// `e[key]`.
    Index(Box<Expr>, Box<Expr>),
    /// `not e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `a and b` (short-circuit).
    And(Box<Expr>, Box<Expr>),
    /// `a or b` (short-circuit).
    Or(Box<Expr>, Box<Expr>),
    /// `a OP b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args)`.
    Call(Name, Vec<Expr>),
}

/// How a lock is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// A mutex (`lock`).
    Mutex,
    /// The shared side of a reader-writer lock (`read_lock`).
    Read,
    /// The exclusive side of a reader-writer lock (`write_lock`).
    Write,
}

impl Mode {
    /// Whether holders in this mode exclude everyone else.
    pub fn exclusive(self) -> bool {
        self != Mode::Read
    }

    /// The statement that takes a lock in this mode.
    pub fn statement(self) -> &'static str {
        match self {
            Mode::Mutex => "lock",
            Mode::Read => "read_lock",
            Mode::Write => "write_lock",
        }
    }
}

/// A block of statements.
pub type Block = Vec<Stmt>;

/// A statement and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// The byte range of its first line in the program text.
    pub span: Range<usize>,
}

/// The statements.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `lock L`, `read_lock L`, `write_lock L`.
    Lock { mode: Mode, lock: Name },
    /// `unlock L`.
    Unlock { lock: Name },
    /// `with [read|write] L { ... }`: the lock is released however the block is left.
    With { mode: Mode, lock: Name, body: Block },
    /// `read VAR[KEY] -> LOCAL`.
    Read { var: Name, key: Option<Expr>, into: Name },
    /// `write VAR[KEY] = EXPR`.
    Write { var: Name, key: Option<Expr>, value: Expr },
    /// `delete VAR[KEY]`.
    Delete { var: Name, key: Expr },
    /// `set LOCAL[KEY] = EXPR`.
    Set { local: Name, key: Option<Expr>, value: Expr },
    /// `await N` or `await [a, b]`: sleep a tape-chosen number of ticks.
    Await { lo: u64, hi: u64 },
    /// `call SERVICE(ARGS) [timeout N] -> LOCAL` (several arguments arrive as a list).
    Call { service: Name, arg: Option<Expr>, timeout: Option<Expr>, into: Option<Name> },
    /// `if c { } else if c { } else { }`.
    If { branches: Vec<(Expr, Block)>, otherwise: Option<Block> },
    /// `while c { }`.
    While { cond: Expr, body: Block },
    /// `loop { }`.
    Loop { body: Block },
    /// `break`.
    Break,
    /// `continue`.
    Continue,
    /// `retry N { } else { }`: run the block up to N times while it fails.
    Retry { times: u32, body: Block, otherwise: Option<Block> },
    /// `try { } catch [NAME] { }`.
    Try { body: Block, bind: Option<Name>, catch: Block },
    /// `spawn TASK[(ARGS)] [-> LOCAL]`.
    Spawn { task: Name, args: Vec<Expr>, into: Option<Name> },
    /// `wait until COND [timeout N] [-> LOCAL]`.
    WaitUntil { cond: Expr, timeout: Option<Expr>, into: Option<Name> },
    /// `send QUEUE EXPR`.
    Send { queue: Name, value: Expr },
    /// `recv QUEUE [timeout N] -> LOCAL`.
    Recv { queue: Name, timeout: Option<Expr>, into: Option<Name> },
    /// `new KIND -> LOCAL`.
    New { kind: Name, into: Name },
    /// `on SERVICE.EVENT { ... }`: register a callback the service fires later.
    On { service: Name, event: Name, body: Block },
    /// `off SERVICE.EVENT`: unregister this task's callbacks for the event.
    Off { service: Name, event: Name },
    /// `fire EVENT [EXPR]` (handlers): run every callback registered for the event.
    Fire { event: Name, value: Option<Expr> },
    /// `cancel TASK` or `cancel HANDLE`.
    Cancel { target: Name },
    /// `join TASK` or `join HANDLE`: wait until it has finished.
    Join { target: Name },
    /// `assert EXPR "message"`.
    Assert { cond: Expr, message: Option<String> },
    /// `emit NAME`.
    Emit { event: Name },
    /// `return [EXPR]`.
    Return { value: Option<Expr> },
    /// `fail EXPR`: raise.
    Fail { message: Expr },
}
