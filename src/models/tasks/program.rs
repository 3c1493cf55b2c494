//! Programs compiled for running: flat instructions with jumps and resolved indices, so a
//! task is a program counter into its code plus its locals and handler stack.

use super::ast::Mode;
use super::value::{BinOp, Value};
use std::sync::Arc;

/// An expression with every name resolved to an index.
#[derive(Clone, Debug, PartialEq)]
pub enum CExpr {
    /// A constant.
    Lit(Value),
    /// A local of the running program.
    Local(u16),
    /// A shared variable (final checks only: programs read shared state with `read`).
    Shared(u16),
    /// A service's state variable (final checks only).
    ServiceVar(u16, u16),
    /// `[a, b]`.
    List(Vec<CExpr>),
    /// `e[key]`.
    Index(Box<CExpr>, Box<CExpr>),
    /// `not e`.
    Not(Box<CExpr>),
    /// `-e`.
    Neg(Box<CExpr>),
    /// `a and b`.
    And(Box<CExpr>, Box<CExpr>),
    /// `a or b`.
    Or(Box<CExpr>, Box<CExpr>),
    /// `a OP b`.
    Bin(BinOp, Box<CExpr>, Box<CExpr>),
    /// `has(map, key)`.
    Has(Box<CExpr>, Box<CExpr>),
    /// `len(map or string)`.
    Len(Box<CExpr>),
    /// `nones(map)`: how many entries are none.
    Nones(Box<CExpr>),
    /// `count(event)`: how many times it was emitted (final checks).
    Count(u16),
    /// `failed()` / `failed(task)`: instances that ended in `fail` (final checks).
    Failed(Option<u16>),
    /// `finished()` / `finished(task)`: instances that ended, however (final checks).
    Finished(Option<u16>),
    /// `cancelled()` / `cancelled(task)`: instances that were cancelled (final checks).
    Cancelled(Option<u16>),
    /// `result(task)`: what its first instance returned (final checks).
    Result(u16),
}

/// What `cancel` and `join` act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every instance of a task.
    Task(u16),
    /// The instance whose handle a local holds.
    Local(u16),
}

/// One instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// Copy a shared variable (or one entry) into a local.
    Read { var: u16, key: Option<CExpr>, into: u16 },
    /// (Handlers) copy a shared variable of the tasks (or one entry) into a local.
    ReadShared { var: u16, key: Option<CExpr>, into: u16 },
    /// Store into a shared variable (or one entry).
    Write { var: u16, key: Option<CExpr>, value: CExpr },
    /// Remove an entry of a shared map.
    Delete { var: u16, key: CExpr },
    /// Store into a local (or one entry of a local map).
    Set { local: u16, key: Option<CExpr>, value: CExpr },
    /// Take a lock; `with` pushes a handler that releases it when the block is left.
    Acquire { lock: u16, mode: Mode, with: bool },
    /// Release a lock.
    Release { lock: u16 },
    /// Sleep a tape-chosen number of ticks in `lo..=hi`.
    Await { lo: u64, hi: u64 },
    /// Call a service and wait for its reply (or, with a timeout, at most that many ticks).
    Call { service: u16, arg: Option<CExpr>, into: Option<u16>, timeout: Option<CExpr> },
    /// Continue at an instruction.
    Jump(u32),
    /// Continue at an instruction unless the condition holds.
    JumpUnless(CExpr, u32),
    /// Enter a `try` block: a failure continues at `catch`, its message in `bind`.
    PushTry { catch: u32, bind: Option<u16> },
    /// Enter a `retry` block (which starts at the next instruction).
    PushRetry { times: u32, otherwise: Option<u32> },
    /// Leave the innermost block normally (a `with` releases its lock).
    Pop,
    /// Start a new instance of a task, its `arg` set to `arg`.
    Spawn { task: u16, arg: Option<CExpr>, into: Option<u16> },
    /// Wait until a condition over locals and shared variables holds (or the timeout
    /// passes); `into` receives whether it held.
    WaitUntil { cond: CExpr, timeout: Option<CExpr>, into: Option<u16> },
    /// Put a value on a named queue (an envelope on the wire).
    Send { queue: u16, value: CExpr },
    /// Take the next value from a named queue, waiting for one (or until the timeout).
    Recv { queue: u16, timeout: Option<CExpr>, into: Option<u16> },
    /// A fresh stable id `kind#n`.
    New { kind: Arc<str>, into: u16 },
    /// Register the callback whose body starts at `start` with a service.
    On { service: u16, event: Arc<str>, start: u32 },
    /// Unregister the running task's callbacks for an event of a service.
    Off { service: u16, event: Arc<str> },
    /// (Handlers) fire an event: each callback registered for it gets an envelope.
    Fire { event: Arc<str>, value: Option<CExpr> },
    /// Cancel tasks.
    Cancel(Target),
    /// Wait until tasks have finished.
    Join(Target),
    /// Check a condition; a false one is a violation.
    Assert { cond: CExpr, message: Arc<str> },
    /// Count an event.
    Emit(u16),
    /// End the task (or the service call) with a value.
    Return(Option<CExpr>),
    /// Raise: the task fails unless a `try` or `retry` catches it.
    Fail(CExpr),
}

impl Instr {
    /// Whether other tasks can see the instruction's effect (preemptive scheduling switches
    /// tasks after each of these).
    pub fn visible(&self) -> bool {
        matches!(
            self,
            Instr::Read { .. }
                | Instr::Write { .. }
                | Instr::Delete { .. }
                | Instr::Acquire { .. }
                | Instr::Release { .. }
                | Instr::Spawn { .. }
                | Instr::Send { .. }
                | Instr::New { .. }
                | Instr::On { .. }
                | Instr::Off { .. }
                | Instr::Cancel(_)
                | Instr::Emit(_)
        )
    }
}

/// A compiled program.
#[derive(Clone, Debug, Default)]
pub struct Code {
    /// The instructions.
    pub instrs: Vec<Instr>,
    /// The file line of each instruction.
    pub lines: Vec<u32>,
    /// The source text of each `assert` condition and `fail` message, by instruction.
    pub texts: Vec<Option<Arc<str>>>,
    /// How many locals a run of it needs (builtins first).
    pub locals: usize,
}
