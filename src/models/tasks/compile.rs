//! The compiler: a variant's programs to [`Code`], resolving every name and reporting,
//! located in the file, what can be known before anything runs: undefined variables,
//! locks, tasks, services and events, locks taken in the wrong mode, an `unlock` of a
//! lock that no path to it has taken, `break` outside a loop, statements a service
//! handler cannot run.

use super::ast::*;
use super::program::{CExpr, Code, Instr, Target};
use super::spec::{LockKind, Options, Program, Spec, Text, names};
use super::value::Value;
use crate::engine::Id;
use crate::scenario::{ScenarioError, Source};
use bevy_ecs::prelude::Resource;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

/// A named thing and its stable id (filled in by [`Compiled::intern`]).
#[derive(Clone, Debug)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Its id in the run's `Names`.
    pub id: Id,
}

/// A compiled service.
#[derive(Clone, Debug)]
pub struct ServiceDef {
    /// Name and id.
    pub named: Named,
    /// Ticks each way (`None`: the `[faults]` delay).
    pub latency: Option<(u64, u64)>,
    /// Chance of failing in transit before heal.
    pub fail: f64,
    /// State variables and initial values.
    pub state: Vec<(String, Value)>,
    /// What it runs on a call (`None`: it replies none).
    pub handler: Option<Code>,
    /// Ticks its clock (`now`) is ahead of the simulation's (negative: behind).
    pub skew: i64,
}

/// A compiled task.
#[derive(Clone, Debug)]
pub struct TaskDef {
    /// The task's name.
    pub name: String,
    /// Instances started on their own.
    pub copies: u32,
    /// Their start window (`None`: only when spawned).
    pub start: Option<(u64, u64)>,
    /// Its program in this variant.
    pub code: Code,
    /// Ticks its clock (`now`) is ahead of the simulation's (negative: behind).
    pub skew: i64,
}

/// A compiled final check.
#[derive(Clone, Debug)]
pub struct FinalDef {
    /// The invariant's name.
    pub name: &'static str,
    /// The expression.
    pub expr: CExpr,
    /// Its source.
    pub text: String,
}

/// A variant ready to run.
#[derive(Resource, Clone, Debug)]
pub struct Compiled {
    /// Options.
    pub options: Options,
    /// Shared variables, with initial values.
    pub shared: Vec<(Named, Value)>,
    /// Locks.
    pub locks: Vec<(Named, LockKind)>,
    /// Services.
    pub services: Vec<ServiceDef>,
    /// Tasks.
    pub tasks: Vec<TaskDef>,
    /// Every event some program of the file emits.
    pub events: Vec<Named>,
    /// Final checks for this variant.
    pub finals: Vec<FinalDef>,
    /// Invariants checked whenever shared state changes, for this variant.
    pub invariants: Vec<FinalDef>,
    /// Queues: name and id, capacity (0: unbounded).
    pub queues: Vec<(Named, u32)>,
}

impl Compiled {
    /// Give every name its id.
    pub fn intern(&mut self, names: &mut crate::engine::Names) {
        for (n, _) in &mut self.shared {
            n.id = names.intern(&n.name);
        }
        for (n, _) in &mut self.locks {
            n.id = names.intern(&n.name);
        }
        for s in &mut self.services {
            s.named.id = names.intern(&s.named.name);
        }
        for e in &mut self.events {
            e.id = names.intern(&e.name);
        }
        for (q, _) in &mut self.queues {
            q.id = names.intern(&q.name);
        }
    }
}

/// Leak each distinct name once, for the engine's `&'static str` invariant names.
pub fn static_name(s: &str) -> &'static str {
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut set = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = set.get(s) {
        return n;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Every event name emitted by any program of the file, sorted.
pub fn all_events(spec: &Spec) -> Vec<String> {
    fn walk(block: &Block, out: &mut BTreeSet<String>) {
        for s in block {
            match &s.kind {
                StmtKind::Emit { event } => {
                    out.insert(event.text.clone());
                }
                StmtKind::With { body, .. }
                | StmtKind::While { body, .. }
                | StmtKind::Loop { body }
                | StmtKind::On { body, .. } => walk(body, out),
                StmtKind::If { branches, otherwise } => {
                    branches.iter().for_each(|(_, b)| walk(b, out));
                    if let Some(b) = otherwise {
                        walk(b, out);
                    }
                }
                StmtKind::Retry { body, otherwise, .. } => {
                    walk(body, out);
                    if let Some(b) = otherwise {
                        walk(b, out);
                    }
                }
                StmtKind::Try { body, catch, .. } => {
                    walk(body, out);
                    walk(catch, out);
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    for v in &spec.variants {
        v.programs.iter().for_each(|p| walk(&p.block, &mut out));
    }
    for v in &spec.variants {
        v.handlers.iter().flatten().for_each(|h| walk(&h.block, &mut out));
    }
    for f in &spec.fns {
        walk(&f.body.block, &mut out);
    }
    out.into_iter().collect()
}

/// Compile `variant` of `spec`.
pub fn compile(spec: &Spec, variant: &str, src: &Source) -> Result<Compiled, ScenarioError> {
    let events = all_events(spec);
    let Some(v) = spec.variant(variant) else {
        return Err(ScenarioError::whole_file(&src.file, format!("unknown variant `{variant}`")));
    };
    let named = |name: &str| Named { name: name.to_owned(), id: Id::NONE };
    let mut services = Vec::new();
    for (i, s) in spec.services.iter().enumerate() {
        let handler = match &v.handlers[i] {
            Some(p) => Some(
                Compiler::new(spec, &events, src, p, Context::Handler(i as u16)).with_consts(&v.consts).program(p)?,
            ),
            None => None,
        };
        services.push(ServiceDef {
            named: named(&s.name),
            latency: s.latency,
            fail: s.fail,
            state: s.state.clone(),
            handler,
            skew: s.skew,
        });
    }
    let mut tasks = Vec::new();
    for (t, p) in spec.tasks.iter().zip(&v.programs) {
        let code = Compiler::new(spec, &events, src, p, Context::Task).with_consts(&v.consts).program(p)?;
        tasks.push(TaskDef { name: t.name.clone(), copies: t.copies, start: t.start, code, skew: t.skew });
    }
    let mut invariants = Vec::new();
    for f in &spec.invariants {
        if f.variants.as_ref().is_some_and(|vs| !vs.iter().any(|x| x == variant)) {
            continue;
        }
        let program = Program { block: Vec::new(), text: f.text.clone() };
        let mut c = Compiler::new(spec, &events, src, &program, Context::Final);
        let expr = c.expr(&f.expr)?;
        invariants.push(FinalDef { name: static_name(&f.name), expr, text: f.text.text.trim().to_owned() });
    }
    let mut finals = Vec::new();
    for f in &spec.finals {
        if f.variants.as_ref().is_some_and(|vs| !vs.iter().any(|x| x == variant)) {
            continue;
        }
        let program = Program { block: Vec::new(), text: f.text.clone() };
        let mut c = Compiler::new(spec, &events, src, &program, Context::Final);
        let expr = c.expr(&f.expr)?;
        finals.push(FinalDef { name: static_name(&f.name), expr, text: f.text.text.trim().to_owned() });
    }
    Ok(Compiled {
        options: v.options,
        shared: v.shared.iter().map(|(n, v)| (named(n), v.clone())).collect(),
        locks: spec.locks.iter().map(|(n, k)| (named(n), *k)).collect(),
        services,
        tasks,
        events: events.iter().map(|e| named(e)).collect(),
        finals,
        invariants,
        queues: spec.queues.iter().map(|(n, c)| (named(n), *c)).collect(),
    })
}

/// A task's built-in locals, in slot order: its instance name, its number, the clock as it
/// reads it (with its `clock_skew`), and what it was spawned with.
pub const TASK_BUILTINS: &[&str] = &["self", "copy", "now", "arg"];
/// A handler's built-in locals: the call's argument(s) and the service's clock.
pub const HANDLER_BUILTINS: &[&str] = &["arg", "now"];

/// What kind of text is being compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Context {
    /// A task program: locals `self`, `copy`; shared state through read/write.
    Task,
    /// A service handler: local `arg`; read/write reach the service's state; it cannot wait.
    Handler(u16),
    /// A final check: names are shared variables.
    Final,
}

struct LoopCtx {
    top: u32,
    depth: usize,
    breaks: Vec<usize>,
}

/// A procedure being compiled into its caller.
struct FnCtx {
    /// Its name (a call to it from inside is recursion, refused).
    name: String,
    /// The prefix of its locals' names, so they never meet the caller's.
    prefix: String,
    /// Handler depth when it was entered (a `return` leaves the blocks opened since).
    depth: usize,
    /// The caller's local that receives its return value.
    result: u16,
    /// `return` jumps to patch to its end.
    exits: Vec<usize>,
}

struct Compiler<'a> {
    spec: &'a Spec,
    /// Procedures being inlined, innermost last.
    fns: Vec<FnCtx>,
    events: &'a [String],
    src: &'a Source,
    text: &'a Text,
    cx: Context,
    locals: Vec<String>,
    code: Code,
    loops: Vec<LoopCtx>,
    depth: usize,
    /// Locks some path to here may hold (`None`: unreachable code).
    held: Option<BTreeSet<u16>>,
    /// Compiling a `wait until` condition: names that are no local read shared variables.
    until: bool,
    /// The variant's constants: names that are no local read these.
    consts: Vec<(String, Value)>,
}

type R<T> = Result<T, ScenarioError>;

impl<'a> Compiler<'a> {
    fn new(spec: &'a Spec, events: &'a [String], src: &'a Source, program: &'a Program, cx: Context) -> Self {
        let locals = match cx {
            Context::Task => TASK_BUILTINS.iter().map(|b| (*b).to_owned()).collect(),
            Context::Handler(_) => HANDLER_BUILTINS.iter().map(|b| (*b).to_owned()).collect(),
            Context::Final => Vec::new(),
        };
        Compiler {
            spec,
            fns: Vec::new(),
            events,
            src,
            text: &program.text,
            cx,
            locals,
            code: Code::default(),
            loops: Vec::new(),
            depth: 0,
            held: Some(BTreeSet::new()),
            until: false,
            consts: Vec::new(),
        }
    }

    fn with_consts(mut self, consts: &[(String, Value)]) -> Self {
        self.consts = consts.to_vec();
        self
    }

    fn err(&self, span: &Range<usize>, msg: impl Into<String>) -> ScenarioError {
        self.src.error(self.text.map.map(span.clone()), msg.into())
    }

    fn program(mut self, p: &Program) -> R<Code> {
        self.block(&p.block)?;
        self.code.locals = self.locals.len();
        Ok(self.code)
    }

    fn emit(&mut self, instr: Instr, span: &Range<usize>) -> usize {
        let line = self.src.line_col(self.text.map.map(span.clone()).start).0 as u32;
        self.code.instrs.push(instr);
        self.code.lines.push(line);
        self.code.texts.push(None);
        self.code.instrs.len() - 1
    }

    fn here(&self) -> u32 {
        self.code.instrs.len() as u32
    }

    fn patch(&mut self, at: usize, to: u32) {
        match &mut self.code.instrs[at] {
            Instr::Jump(t) | Instr::JumpUnless(_, t) | Instr::PushTry { catch: t, .. } => *t = to,
            Instr::PushRetry { otherwise, .. } => *otherwise = Some(to),
            _ => {}
        }
    }

    // ---- names ----

    /// The name a local has in the locals table: inside a procedure, its own namespace.
    fn scoped(&self, name: &str) -> String {
        match self.fns.last() {
            Some(f) if !TASK_BUILTINS.contains(&name) && !HANDLER_BUILTINS.contains(&name) => {
                format!("{}{name}", f.prefix)
            }
            _ => name.to_owned(),
        }
    }

    fn local_use(&self, n: &Name) -> R<u16> {
        let scoped = self.scoped(&n.text);
        if let Some(i) = self.locals.iter().position(|l| *l == scoped) {
            return Ok(i as u16);
        }
        let hint = match self.cx {
            Context::Task if self.spec.shared.iter().any(|(s, _)| *s == n.text) => {
                format!("; `{0}` is a shared variable: read it into a local first (`read {0} -> {0}`)", n.text)
            }
            Context::Handler(s) if self.spec.services[s as usize].state.iter().any(|(x, _)| *x == n.text) => {
                format!("; `{0}` is the service's state: read it first (`read {0} -> {0}`)", n.text)
            }
            _ => format!("; locals defined before this point: {}", self.locals.join(", ")),
        };
        Err(self.err(&n.span, format!("undefined variable `{}`{hint}", n.text)))
    }

    fn local_def(&mut self, n: &Name) -> R<u16> {
        if (self.cx == Context::Task && TASK_BUILTINS[..3].contains(&n.text.as_str()))
            || (matches!(self.cx, Context::Handler(_)) && n.text == "now")
        {
            return Err(self.err(&n.span, format!("`{}` is built in and cannot be assigned", n.text)));
        }
        let scoped = self.scoped(&n.text);
        if let Some(i) = self.locals.iter().position(|l| *l == scoped) {
            return Ok(i as u16);
        }
        if self.locals.len() >= u16::MAX as usize {
            return Err(self.err(&n.span, "too many locals"));
        }
        self.locals.push(scoped);
        Ok((self.locals.len() - 1) as u16)
    }

    fn shared_var(&self, n: &Name) -> R<u16> {
        match self.cx {
            Context::Handler(s) => {
                let state = &self.spec.services[s as usize].state;
                state.iter().position(|(x, _)| *x == n.text).map(|i| i as u16).ok_or_else(|| {
                    self.err(
                        &n.span,
                        format!(
                            "undefined variable `{}` in the state of service `{}`; its state: {}",
                            n.text,
                            self.spec.services[s as usize].name,
                            names(state.iter().map(|(x, _)| x.as_str()))
                        ),
                    )
                })
            }
            _ => self.spec.shared.iter().position(|(x, _)| *x == n.text).map(|i| i as u16).ok_or_else(|| {
                let local = if self.locals.contains(&n.text) {
                    format!("; `{}` is a local: use it in expressions directly, or `set` it", n.text)
                } else {
                    String::new()
                };
                self.err(
                    &n.span,
                    format!(
                        "undefined shared variable `{}`; declared in [shared]: {}{local}",
                        n.text,
                        names(self.spec.shared.iter().map(|(x, _)| x.as_str()))
                    ),
                )
            }),
        }
    }

    fn lock(&self, n: &Name, mode: Mode) -> R<u16> {
        let Some(i) = self.spec.locks.iter().position(|(x, _)| *x == n.text) else {
            return Err(self.err(
                &n.span,
                format!(
                    "undefined lock `{}`; declared in [locks]: {}",
                    n.text,
                    names(self.spec.locks.iter().map(|(x, _)| x.as_str()))
                ),
            ));
        };
        let kind = self.spec.locks[i].1;
        match (kind, mode) {
            (LockKind::Mutex, Mode::Read | Mode::Write) => Err(self.err(
                &n.span,
                format!(
                    "`{}` is a mutex: take it with `lock {0}` (or `with {0} {{ }}`), not in read/write mode",
                    n.text
                ),
            )),
            (LockKind::RwLock, Mode::Mutex) => Err(self.err(
                &n.span,
                format!("`{}` is a reader-writer lock: take it with `read_lock {0}` or `write_lock {0}`", n.text),
            )),
            _ => Ok(i as u16),
        }
    }

    fn any_lock(&self, n: &Name) -> R<u16> {
        self.spec.locks.iter().position(|(x, _)| *x == n.text).map(|i| i as u16).ok_or_else(|| {
            self.err(
                &n.span,
                format!(
                    "undefined lock `{}`; declared in [locks]: {}",
                    n.text,
                    names(self.spec.locks.iter().map(|(x, _)| x.as_str()))
                ),
            )
        })
    }

    fn task(&self, n: &Name) -> R<u16> {
        self.spec.tasks.iter().position(|t| t.name == n.text).map(|i| i as u16).ok_or_else(|| {
            self.err(
                &n.span,
                format!(
                    "undefined task `{}`; declared tasks: {}",
                    n.text,
                    names(self.spec.tasks.iter().map(|t| t.name.as_str()))
                ),
            )
        })
    }

    fn target(&self, n: &Name) -> R<Target> {
        if let Some(i) = self.locals.iter().position(|l| *l == n.text) {
            return Ok(Target::Local(i as u16));
        }
        self.task(n).map(Target::Task)
    }

    /// Compile procedure `name` into the caller: its parameters become its own locals, set
    /// from the arguments (one argument, or the list's items for several), and its `return`
    /// sets `into`.
    fn inline(&mut self, name: &Name, arg: Option<&Expr>, into: Option<&Name>, span: &Range<usize>) -> R<()> {
        let spec = self.spec;
        let Some(f) = spec.fns.iter().find(|f| f.name == name.text) else { return Ok(()) };
        if self.fns.iter().any(|c| c.name == f.name) {
            return Err(self.err(&name.span, format!("`{}` calls itself: procedures cannot recurse", f.name)));
        }
        let args: Vec<&Expr> = match arg {
            None => Vec::new(),
            Some(Expr { kind: ExprKind::List(items), .. }) if f.params.len() > 1 => items.iter().collect(),
            Some(e) => vec![e],
        };
        if args.len() != f.params.len() {
            return Err(self.err(
                span,
                format!(
                    "`{}` takes {} argument(s) ({}), found {}",
                    f.name,
                    f.params.len(),
                    f.params.join(", "),
                    args.len()
                ),
            ));
        }
        let values: Vec<CExpr> = args.into_iter().map(|a| self.expr(a)).collect::<R<_>>()?;
        let result = match into {
            Some(n) => self.local_def(n)?,
            None => {
                let hidden = Name { text: format!("{}$result", f.name), span: name.span.clone() };
                self.local_def(&hidden)?
            }
        };
        let prefix = format!("{}{}$", self.fns.last().map_or("", |c| c.prefix.as_str()), f.name);
        self.fns.push(FnCtx { name: f.name.clone(), prefix, depth: self.depth, result, exits: Vec::new() });
        for (p, v) in f.params.iter().zip(values) {
            let l = self.local_def(&Name { text: p.clone(), span: name.span.clone() })?;
            self.emit(Instr::Set { local: l, key: None, value: v }, span);
        }
        self.emit(Instr::Set { local: result, key: None, value: CExpr::Lit(Value::None) }, span);
        // The body's own text locates its errors; its loops are its own.
        let (text, loops) = (self.text, std::mem::take(&mut self.loops));
        self.text = &f.body.text;
        let body = self.block(&f.body.block);
        self.text = text;
        self.loops = loops;
        let ctx = self.fns.pop();
        body?;
        let end = self.here();
        for j in ctx.map(|c| c.exits).unwrap_or_default() {
            self.patch(j, end);
        }
        Ok(())
    }

    fn queue(&self, n: &Name) -> R<u16> {
        self.spec.queues.iter().position(|q| q.0 == n.text).map(|i| i as u16).ok_or_else(|| {
            self.err(
                &n.span,
                format!(
                    "undefined queue `{}`; declared in [queues]: {}",
                    n.text,
                    names(self.spec.queues.iter().map(|q| q.0.as_str()))
                ),
            )
        })
    }

    fn service(&self, n: &Name) -> R<u16> {
        self.spec.services.iter().position(|s| s.name == n.text).map(|i| i as u16).ok_or_else(|| {
            self.err(
                &n.span,
                format!(
                    "undefined service `{}`; declared services: {}",
                    n.text,
                    names(self.spec.services.iter().map(|s| s.name.as_str()))
                ),
            )
        })
    }

    fn event(&self, n: &Name) -> R<u16> {
        self.events.iter().position(|e| *e == n.text).map(|i| i as u16).ok_or_else(|| {
            self.err(
                &n.span,
                format!(
                    "no program emits `{}`; emitted events: {}",
                    n.text,
                    names(self.events.iter().map(String::as_str))
                ),
            )
        })
    }

    // ---- expressions ----

    fn expr(&mut self, e: &Expr) -> R<CExpr> {
        let b = |x: CExpr| Box::new(x);
        Ok(match &e.kind {
            ExprKind::Int(i) => CExpr::Lit(Value::Int(*i)),
            ExprKind::Str(s) => CExpr::Lit(Value::str(s)),
            ExprKind::Bool(v) => CExpr::Lit(Value::Bool(*v)),
            ExprKind::None => CExpr::Lit(Value::None),
            ExprKind::EmptyMap => CExpr::Lit(Value::Map(BTreeMap::new())),
            ExprKind::List(items) => CExpr::List(items.iter().map(|x| self.expr(x)).collect::<R<_>>()?),
            ExprKind::Name(n) => match self.cx {
                Context::Final => {
                    CExpr::Shared(self.spec.shared.iter().position(|(x, _)| *x == n.text).ok_or_else(|| {
                        self.err(
                            &n.span,
                            format!(
                                "undefined shared variable `{}`; declared in [shared]: {}",
                                n.text,
                                names(self.spec.shared.iter().map(|(x, _)| x.as_str()))
                            ),
                        )
                    })? as u16)
                }
                _ if !self.locals.contains(&n.text) && self.consts.iter().any(|(c, _)| *c == n.text) => CExpr::Lit(
                    self.consts.iter().find(|(c, _)| *c == n.text).map(|(_, v)| v.clone()).unwrap_or_default(),
                ),
                Context::Task if self.until && !self.locals.contains(&self.scoped(&n.text)) => {
                    CExpr::Shared(self.shared_var(n)?)
                }
                _ => CExpr::Local(self.local_use(n)?),
            },
            ExprKind::Field(svc, var) => {
                if self.cx != Context::Final {
                    return Err(self.err(&e.span, "`service.variable` can only be read in [[final]] checks"));
                }
                let s = self.service(svc)?;
                let state = &self.spec.services[s as usize].state;
                let v = state.iter().position(|(x, _)| *x == var.text).ok_or_else(|| {
                    self.err(
                        &var.span,
                        format!(
                            "service `{}` has no state variable `{}`; its state: {}",
                            svc.text,
                            var.text,
                            names(state.iter().map(|(x, _)| x.as_str()))
                        ),
                    )
                })?;
                CExpr::ServiceVar(s, v as u16)
            }
            ExprKind::Index(m, k) => CExpr::Index(b(self.expr(m)?), b(self.expr(k)?)),
            ExprKind::Not(x) => CExpr::Not(b(self.expr(x)?)),
            ExprKind::Neg(x) => CExpr::Neg(b(self.expr(x)?)),
            ExprKind::And(x, y) => CExpr::And(b(self.expr(x)?), b(self.expr(y)?)),
            ExprKind::Or(x, y) => CExpr::Or(b(self.expr(x)?), b(self.expr(y)?)),
            ExprKind::Binary(op, x, y) => CExpr::Bin(*op, b(self.expr(x)?), b(self.expr(y)?)),
            ExprKind::Call(f, args) => self.function(f, args, &e.span)?,
        })
    }

    fn function(&mut self, f: &Name, args: &[Expr], span: &Range<usize>) -> R<CExpr> {
        let arity = |lo: usize, hi: usize, usage: &str| -> R<()> {
            if (lo..=hi).contains(&args.len()) {
                Ok(())
            } else {
                Err(self.err(span, format!("`{}` takes {usage}, found {} argument(s)", f.text, args.len())))
            }
        };
        let final_only = matches!(f.text.as_str(), "count" | "failed" | "finished" | "cancelled" | "result");
        if final_only && self.cx != Context::Final {
            return Err(self.err(&f.span, format!("`{}(...)` can only be used in [[final]] checks", f.text)));
        }
        let name_arg = |this: &Self, i: usize| -> R<Name> {
            match &args[i].kind {
                ExprKind::Name(n) => Ok(n.clone()),
                _ => Err(this.err(&args[i].span, format!("`{}` takes a name here", f.text))),
            }
        };
        Ok(match f.text.as_str() {
            "has" => {
                arity(2, 2, "a map and a key")?;
                CExpr::Has(Box::new(self.expr(&args[0])?), Box::new(self.expr(&args[1])?))
            }
            "len" => {
                arity(1, 1, "one map or string")?;
                CExpr::Len(Box::new(self.expr(&args[0])?))
            }
            "nones" => {
                arity(1, 1, "one map")?;
                CExpr::Nones(Box::new(self.expr(&args[0])?))
            }
            "count" => {
                arity(1, 1, "one event name")?;
                CExpr::Count(self.event(&name_arg(self, 0)?)?)
            }
            "failed" | "finished" | "cancelled" => {
                arity(0, 1, "no argument (all tasks) or a task name")?;
                let t = if args.is_empty() { None } else { Some(self.task(&name_arg(self, 0)?)?) };
                match f.text.as_str() {
                    "failed" => CExpr::Failed(t),
                    "finished" => CExpr::Finished(t),
                    _ => CExpr::Cancelled(t),
                }
            }
            "result" => {
                arity(1, 1, "a task name")?;
                CExpr::Result(self.task(&name_arg(self, 0)?)?)
            }
            other => {
                let more = if self.cx == Context::Final { ", count, failed, finished, cancelled, result" } else { "" };
                return Err(
                    self.err(&f.span, format!("unknown function `{other}`; expected one of: has, len, nones{more}"))
                );
            }
        })
    }

    // ---- statements ----

    fn block(&mut self, block: &Block) -> R<()> {
        for s in block {
            self.statement(s)?;
        }
        Ok(())
    }

    fn no_wait(&self, s: &Stmt, what: &str) -> R<()> {
        if matches!(self.cx, Context::Handler(_)) {
            return Err(self.err(&s.span, format!("a service handler runs at once, without waiting: it cannot {what}")));
        }
        Ok(())
    }

    fn statement(&mut self, s: &Stmt) -> R<()> {
        let span = &s.span;
        match &s.kind {
            StmtKind::Lock { mode, lock } => {
                self.no_wait(s, "take locks")?;
                let l = self.lock(lock, *mode)?;
                if let Some(h) = &mut self.held {
                    h.insert(l);
                }
                self.emit(Instr::Acquire { lock: l, mode: *mode, with: false }, span);
            }
            StmtKind::Unlock { lock } => {
                self.no_wait(s, "take locks")?;
                let l = self.any_lock(lock)?;
                if let Some(h) = &mut self.held
                    && !h.remove(&l)
                {
                    return Err(self.err(
                        &lock.span,
                        format!(
                            "`unlock {0}` where this task cannot hold `{0}`: no `lock {0}` comes before it on any path",
                            lock.text
                        ),
                    ));
                }
                self.emit(Instr::Release { lock: l }, span);
            }
            StmtKind::With { mode, lock, body } => {
                self.no_wait(s, "take locks")?;
                let l = self.lock(lock, *mode)?;
                let before = self.held.as_ref().map(|h| h.contains(&l));
                if let Some(h) = &mut self.held {
                    h.insert(l);
                }
                self.emit(Instr::Acquire { lock: l, mode: *mode, with: true }, span);
                self.depth += 1;
                self.block(body)?;
                self.depth -= 1;
                self.emit(Instr::Pop, span);
                if let (Some(h), Some(false)) = (&mut self.held, before) {
                    h.remove(&l);
                }
            }
            StmtKind::Read { var, key, into }
                if matches!(self.cx, Context::Handler(h)
                    if !self.spec.services[h as usize].state.iter().any(|(x, _)| *x == var.text)
                        && self.spec.shared.iter().any(|(x, _)| *x == var.text)) =>
            {
                // A handler reads the client's shared state (a server seeing what the client
                // last told it); it writes only its own state.
                let v = self.spec.shared.iter().position(|(x, _)| *x == var.text).unwrap_or(0) as u16;
                let key = key.as_ref().map(|k| self.expr(k)).transpose()?;
                let into = self.local_def(into)?;
                self.emit(Instr::ReadShared { var: v, key, into }, span);
            }
            StmtKind::Read { var, key, into } => {
                let v = self.shared_var(var)?;
                let key = key.as_ref().map(|k| self.expr(k)).transpose()?;
                let into = self.local_def(into)?;
                self.emit(Instr::Read { var: v, key, into }, span);
            }
            StmtKind::Write { var, key, value } => {
                let v = self.shared_var(var)?;
                let key = key.as_ref().map(|k| self.expr(k)).transpose()?;
                let value = self.expr(value)?;
                self.emit(Instr::Write { var: v, key, value }, span);
            }
            StmtKind::Delete { var, key } => {
                let v = self.shared_var(var)?;
                let key = self.expr(key)?;
                self.emit(Instr::Delete { var: v, key }, span);
            }
            StmtKind::Set { local, key, value } => {
                let value = self.expr(value)?;
                let (l, key) = match key {
                    Some(k) => (self.local_use(local)?, Some(self.expr(k)?)),
                    None => (self.local_def(local)?, None),
                };
                self.emit(Instr::Set { local: l, key, value }, span);
            }
            StmtKind::Await { lo, hi } => {
                self.no_wait(s, "await")?;
                self.emit(Instr::Await { lo: *lo, hi: *hi }, span);
            }
            StmtKind::Call { service, arg, timeout, into } if self.spec.fns.iter().any(|f| f.name == service.text) => {
                if timeout.is_some() {
                    return Err(self.err(
                        span,
                        format!("`{}` is a procedure: it runs in the caller, so it takes no timeout", service.text),
                    ));
                }
                self.inline(service, arg.as_ref(), into.as_ref(), span)?;
            }
            StmtKind::Call { service, arg, timeout, into } => {
                self.no_wait(s, "call services")?;
                let svc = self.service(service)?;
                let arg = arg.as_ref().map(|a| self.expr(a)).transpose()?;
                let timeout = timeout.as_ref().map(|a| self.expr(a)).transpose()?;
                let into = into.as_ref().map(|i| self.local_def(i)).transpose()?;
                self.emit(Instr::Call { service: svc, arg, into, timeout }, span);
            }
            StmtKind::If { branches, otherwise } => {
                let entry = self.held.clone();
                let mut exits: Vec<usize> = Vec::new();
                let mut out: Option<BTreeSet<u16>> = None;
                for (cond, body) in branches {
                    let c = self.expr(cond)?;
                    let skip = self.emit(Instr::JumpUnless(c, 0), &cond.span);
                    self.held = entry.clone();
                    self.block(body)?;
                    out = union(out, self.held.take());
                    exits.push(self.emit(Instr::Jump(0), span));
                    let here = self.here();
                    self.patch(skip, here);
                }
                self.held = entry.clone();
                if let Some(body) = otherwise {
                    self.block(body)?;
                }
                out = union(out, self.held.take());
                let end = self.here();
                for e in exits {
                    self.patch(e, end);
                }
                self.held = out;
            }
            StmtKind::While { cond, body } => {
                self.widen(body);
                let top = self.here();
                let c = self.expr(cond)?;
                let skip = self.emit(Instr::JumpUnless(c, 0), &cond.span);
                self.loop_body(top, body, span)?;
                let end = self.here();
                self.patch(skip, end);
                self.finish_loop(end);
            }
            StmtKind::Loop { body } => {
                self.widen(body);
                let top = self.here();
                self.loop_body(top, body, span)?;
                let end = self.here();
                self.finish_loop(end);
                // A `loop` is left only by `break`: after it is reachable only if one exists.
            }
            StmtKind::Break | StmtKind::Continue => {
                let is_break = matches!(s.kind, StmtKind::Break);
                let Some(lp) = self.loops.last() else {
                    let w = if is_break { "break" } else { "continue" };
                    return Err(self.err(span, format!("`{w}` outside a loop (`while` or `loop`)")));
                };
                let (top, pops) = (lp.top, self.depth - lp.depth);
                for _ in 0..pops {
                    self.emit(Instr::Pop, span);
                }
                let j = self.emit(Instr::Jump(top), span);
                if is_break && let Some(lp) = self.loops.last_mut() {
                    lp.breaks.push(j);
                }
                self.held = None;
            }
            StmtKind::Retry { times, body, otherwise } => {
                self.no_wait(s, "retry")?;
                let entry = self.held.clone();
                // A later attempt starts with whatever a failed one left held.
                self.widen(body);
                let push = self.emit(Instr::PushRetry { times: *times, otherwise: None }, span);
                self.depth += 1;
                self.block(body)?;
                self.depth -= 1;
                self.emit(Instr::Pop, span);
                let body_out = self.held.take();
                let exit = self.emit(Instr::Jump(0), span);
                let mut out = body_out;
                if let Some(ob) = otherwise {
                    let here = self.here();
                    self.patch(push, here);
                    self.held = self.widened(entry, body);
                    self.block(ob)?;
                    out = union(out, self.held.take());
                } else {
                    // Exhaustion raises: nothing falls through from the failure path.
                }
                let end = self.here();
                self.patch(exit, end);
                self.held = out;
            }
            StmtKind::Try { body, bind, catch } => {
                self.no_wait(s, "catch failures (nothing in a handler waits, so nothing fails but `fail`)")?;
                let entry = self.held.clone();
                let push = self.emit(Instr::PushTry { catch: 0, bind: None }, span);
                self.depth += 1;
                self.block(body)?;
                self.depth -= 1;
                self.emit(Instr::Pop, span);
                let body_out = self.held.take();
                let exit = self.emit(Instr::Jump(0), span);
                let here = self.here();
                self.patch(push, here);
                let b = bind.as_ref().map(|n| self.local_def(n)).transpose()?;
                if let Instr::PushTry { bind, .. } = &mut self.code.instrs[push] {
                    *bind = b;
                }
                self.held = self.widened(entry, body);
                self.block(catch)?;
                let out = union(body_out, self.held.take());
                let end = self.here();
                self.patch(exit, end);
                self.held = out;
            }
            StmtKind::Spawn { task, args, into } => {
                self.no_wait(s, "spawn tasks")?;
                let t = self.task(task)?;
                let arg = args.first().map(|a| self.expr(a)).transpose()?;
                let into = into.as_ref().map(|i| self.local_def(i)).transpose()?;
                self.emit(Instr::Spawn { task: t, arg, into }, span);
            }
            StmtKind::WaitUntil { cond, timeout, into } => {
                self.no_wait(s, "wait")?;
                self.until = true;
                let c = self.expr(cond);
                self.until = false;
                let cond = c?;
                let timeout = timeout.as_ref().map(|a| self.expr(a)).transpose()?;
                let into = into.as_ref().map(|i| self.local_def(i)).transpose()?;
                self.emit(Instr::WaitUntil { cond, timeout, into }, span);
            }
            StmtKind::Send { queue, value } => {
                let q = self.queue(queue)?;
                let value = self.expr(value)?;
                self.emit(Instr::Send { queue: q, value }, span);
            }
            StmtKind::Recv { queue, timeout, into } => {
                self.no_wait(s, "receive from queues")?;
                let q = self.queue(queue)?;
                let timeout = timeout.as_ref().map(|a| self.expr(a)).transpose()?;
                let into = into.as_ref().map(|i| self.local_def(i)).transpose()?;
                self.emit(Instr::Recv { queue: q, timeout, into }, span);
            }
            StmtKind::On { service, event, body } => {
                if self.cx != Context::Task {
                    return Err(self.err(span, "only a task registers callbacks (`on`); a handler fires them (`fire`)"));
                }
                if !self.fns.is_empty() {
                    return Err(self.err(span, "a procedure cannot register callbacks; register them in the task"));
                }
                let svc = self.service(service)?;
                let at = self.emit(Instr::On { service: svc, event: Arc::from(event.text.as_str()), start: 0 }, span);
                let skip = self.emit(Instr::Jump(0), span);
                // The body runs as its own instance: no enclosing loops, blocks or locks.
                let (loops, depth, held) = (std::mem::take(&mut self.loops), self.depth, self.held.take());
                self.depth = 0;
                self.held = Some(BTreeSet::new());
                let start = self.here();
                let r = self.block(body);
                self.emit(Instr::Return(None), span);
                (self.loops, self.depth, self.held) = (loops, depth, held);
                r?;
                if let Instr::On { start: s, .. } = &mut self.code.instrs[at] {
                    *s = start;
                }
                let end = self.here();
                self.patch(skip, end);
            }
            StmtKind::Off { service, event } => {
                let svc = self.service(service)?;
                self.emit(Instr::Off { service: svc, event: Arc::from(event.text.as_str()) }, span);
            }
            StmtKind::Fire { event, value } => {
                if !matches!(self.cx, Context::Handler(_)) {
                    return Err(
                        self.err(span, "only a service handler fires callbacks (`fire`); a task registers them (`on`)")
                    );
                }
                let value = value.as_ref().map(|v| self.expr(v)).transpose()?;
                self.emit(Instr::Fire { event: Arc::from(event.text.as_str()), value }, span);
            }
            StmtKind::New { kind, into } => {
                let into = self.local_def(into)?;
                self.emit(Instr::New { kind: Arc::from(kind.text.as_str()), into }, span);
            }
            StmtKind::Cancel { target } => {
                self.no_wait(s, "cancel tasks")?;
                let t = self.target(target)?;
                self.emit(Instr::Cancel(t), span);
            }
            StmtKind::Join { target } => {
                self.no_wait(s, "join tasks")?;
                let t = self.target(target)?;
                self.emit(Instr::Join(t), span);
            }
            StmtKind::Assert { cond, message } => {
                let c = self.expr(cond)?;
                let text = self.text.slice(cond.span.clone()).to_owned();
                let message: Arc<str> =
                    Arc::from(message.clone().unwrap_or_else(|| format!("assertion `{text}` failed")));
                let at = self.emit(Instr::Assert { cond: c, message }, span);
                self.code.texts[at] = Some(Arc::from(text));
            }
            StmtKind::Emit { event } => {
                let e = self.event(event)?;
                self.emit(Instr::Emit(e), span);
            }
            StmtKind::Return { value } if !self.fns.is_empty() => {
                let v = value.as_ref().map(|v| self.expr(v)).transpose()?.unwrap_or(CExpr::Lit(Value::None));
                let (depth, result) = self.fns.last().map(|f| (f.depth, f.result)).unwrap_or_default();
                for _ in 0..self.depth - depth {
                    self.emit(Instr::Pop, span);
                }
                self.emit(Instr::Set { local: result, key: None, value: v }, span);
                let j = self.emit(Instr::Jump(0), span);
                if let Some(f) = self.fns.last_mut() {
                    f.exits.push(j);
                }
            }
            StmtKind::Return { value } => {
                let v = value.as_ref().map(|v| self.expr(v)).transpose()?;
                self.emit(Instr::Return(v), span);
                self.held = None;
            }
            StmtKind::Fail { message } => {
                let m = self.expr(message)?;
                self.emit(Instr::Fail(m), span);
                self.held = None;
            }
        }
        Ok(())
    }

    /// Before a loop body: a lock taken anywhere in it may be held on any iteration.
    fn widen(&mut self, body: &Block) {
        let held = self.held.take();
        self.held = self.widened(held, body);
    }

    /// `held` plus every lock taken anywhere in `body` (the state at any point inside it).
    /// Unknown lock names are skipped here and reported where they are used.
    fn widened(&self, held: Option<BTreeSet<u16>>, body: &Block) -> Option<BTreeSet<u16>> {
        let mut held = held?;
        let mut names = Vec::new();
        taken(body, &mut names);
        held.extend(names.iter().filter_map(|n| self.spec.locks.iter().position(|(x, _)| x == n).map(|i| i as u16)));
        Some(held)
    }

    fn loop_body(&mut self, top: u32, body: &Block, span: &Range<usize>) -> R<()> {
        self.loops.push(LoopCtx { top, depth: self.depth, breaks: Vec::new() });
        let entry = self.held.clone();
        self.block(body)?;
        self.emit(Instr::Jump(top), span);
        self.held = union(entry, self.held.take());
        Ok(())
    }

    fn finish_loop(&mut self, end: u32) {
        if let Some(lp) = self.loops.pop() {
            for b in lp.breaks {
                self.patch(b, end);
            }
        }
    }
}

fn union(a: Option<BTreeSet<u16>>, b: Option<BTreeSet<u16>>) -> Option<BTreeSet<u16>> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(mut x), Some(y)) => {
            x.extend(y);
            Some(x)
        }
    }
}

/// The names of every lock some `lock`/`with` inside `block` takes.
fn taken<'b>(block: &'b Block, out: &mut Vec<&'b str>) {
    for s in block {
        match &s.kind {
            StmtKind::Lock { lock, .. } => out.push(&lock.text),
            StmtKind::With { lock, body, .. } => {
                out.push(&lock.text);
                taken(body, out);
            }
            StmtKind::While { body, .. } | StmtKind::Loop { body } => taken(body, out),
            StmtKind::If { branches, otherwise } => {
                branches.iter().for_each(|(_, b)| taken(b, out));
                if let Some(b) = otherwise {
                    taken(b, out);
                }
            }
            StmtKind::Retry { body, otherwise, .. } => {
                taken(body, out);
                if let Some(b) = otherwise {
                    taken(b, out);
                }
            }
            StmtKind::Try { body, catch, .. } => {
                taken(body, out);
                taken(catch, out);
            }
            _ => {}
        }
    }
}
