//! The event loop: tasks as entities with a program counter, run in slices.
//!
//! The language keeps no queue of its own. Starts, sleeps and timeouts are the engine's
//! timers ([`TaskWake`]); a call is a request envelope to the service and a reply envelope
//! back ([`Envelope`]) on the engine's wire, so `[faults]` (drop, duplicate, delay,
//! partitions, `heal_at`), a service's link settings (`latency`, `fail`) and every strategy
//! apply to them, and the agenda orders them with everything else due on a tick.
//!
//! A lost request or reply is silent: the caller waits until its call's `timeout` (a
//! `TimeoutError` it can catch) or, without one, for ever (the liveness monitor
//! `task_finishes` reports it). A service's `fail` is a loss the caller's transport notices:
//! the caller gets `ConnectionError: S did not answer` when the request would have arrived.
//!
//! Each model step handles what the agenda handed over (timers, envelopes, scripted steps),
//! then, while any task is runnable, the tape picks one (`task.pick`, 0 = the one runnable
//! longest) and it runs a slice: under cooperative scheduling (asyncio) until it awaits,
//! calls, waits for a lock or a join, or ends; under preemptive scheduling (threads) for one
//! step that touches shared state. Running takes no time: only `await`, the wire and start
//! windows move the clock.

use super::ast::Mode;
use super::compile::Compiled;
use super::eval::{Locals, LocalsShared, eval};
use super::locks::{Lock, Waiter};
use super::program::{CExpr, Instr, Target};
use super::spec::Scheduling;
use super::value::Value;
use crate::engine::ctx::SimCtx;
use crate::engine::ids::Id;
use crate::engine::timers::Timers;
use crate::engine::trace::Describe;
use crate::engine::trace::{Args, EventKind, Val};
use crate::engine::wire::{Inbound, Outbound};
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;
use std::sync::Arc;

/// Steps all tasks together may take within one tick before the loop counts as blocked.
pub const STEP_BUDGET: u64 = 100_000;
/// Fuel of one run, all tasks together: a step costs one, and storing a value costs its size
/// too (string bytes plus list and map entries), since storing copies it. Past it the run
/// ends `Halted { limit: "max_steps" }`: a program that never settles, or one that keeps
/// copying a large value, cannot run for ever.
pub const MAX_STEPS: u64 = 2_000_000;
/// Task instances one run may create: past it the run ends `Halted { limit: "max_tasks" }`.
pub const MAX_TASKS: usize = 10_000;
/// The largest value a local, shared variable or queue may hold (string bytes plus list and
/// map entries, nested included): past it the run ends `Halted { limit: "max_value_size" }`.
pub const MAX_VALUE_SIZE: usize = 100_000;

/// The compiled variant, shared cheaply with every slice.
#[derive(Resource, Clone)]
pub struct Prog(pub Arc<Compiled>);

/// A block the task is inside, innermost last.
#[derive(Clone, Debug, PartialEq)]
pub enum Handler {
    /// `try`: a failure continues at `catch`.
    Try {
        /// Where the catch block starts.
        catch: u32,
        /// The local that receives the failure's message.
        bind: Option<u16>,
    },
    /// `retry`: a failure starts the block again while attempts remain.
    Retry {
        /// Where the block starts.
        start: u32,
        /// Attempts left after this one.
        left: u32,
        /// Attempts in all.
        times: u32,
        /// Where the `else` block starts (`None`: exhaustion raises).
        otherwise: Option<u32>,
    },
    /// `with`: leaving releases the lock.
    With {
        /// The lock.
        lock: u16,
    },
}

/// What a task is doing.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Status {
    /// Waiting for its start tick.
    #[default]
    NotStarted,
    /// Ready to run a slice.
    Runnable,
    /// In `await`.
    Sleeping,
    /// Waiting for a service's reply.
    Calling {
        /// The local that receives the reply.
        into: Option<u16>,
        /// The service.
        service: u16,
    },
    /// Waiting for a lock.
    Blocked {
        /// The lock.
        lock: u16,
        /// How it wants it.
        mode: Mode,
        /// The program line.
        line: u32,
    },
    /// In `wait until`: the condition is the instruction before `pc`.
    Until {
        /// The local that learns whether the condition held (false: timed out).
        into: Option<u16>,
    },
    /// In `recv`, waiting for a value.
    Receiving {
        /// The queue.
        queue: u16,
        /// The local that receives the value.
        into: Option<u16>,
    },
    /// Waiting for other tasks to finish.
    Joining {
        /// The instances it waits for.
        on: Vec<u32>,
        /// The program line.
        line: u32,
    },
    /// Finished.
    Done,
}

/// A task instance: its program counter, locals and blocks.
#[derive(Component, Clone, Debug, Default)]
pub struct Task {
    /// Its instance number.
    pub ix: u32,
    /// The next instruction.
    pub pc: u32,
    /// Its locals (`self` and `copy` first).
    pub locals: Vec<Value>,
    /// The blocks it is inside.
    pub handlers: Vec<Handler>,
    /// What it is doing.
    pub status: Status,
    /// Bumped at each suspension: a wake-up for an older one is stale.
    pub epoch: u32,
    /// A failure to raise when it next runs (a failed call).
    pub pending_fail: Option<String>,
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq)]
pub enum End {
    /// It returned (or ran off the end of its program).
    Returned(Value),
    /// It failed with this message.
    Failed(String),
    /// It was cancelled.
    Cancelled,
}

/// The scheduler's view of an instance (kept beside the entity so that instances spawned
/// this tick, whose components are not inserted yet, can be found and cancelled).
#[derive(Clone, Debug)]
pub struct Meta {
    /// Its entity.
    pub entity: Entity,
    /// Its stable id.
    pub id: Id,
    /// Which task it is an instance of.
    pub def: u16,
    /// Whether it has started.
    pub started: bool,
    /// How it ended, once it has.
    pub end: Option<End>,
    /// Whether it has been asked to cancel.
    pub cancel: bool,
}

/// A task's timer on the engine's timers: a start, the end of a sleep, a timeout.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskWake {
    /// Instance `0` starts.
    Start(u32),
    /// The sleep (suspension `epoch`) of instance `task` ends.
    Resume {
        /// The instance.
        task: u32,
        /// Its suspension this wakes.
        epoch: u32,
    },
    /// The wait (suspension `epoch`) of instance `task` times out.
    Timeout {
        /// The instance.
        task: u32,
        /// Its suspension this times out.
        epoch: u32,
    },
}

/// One call in flight: who called whom, and which suspension of the caller waits for it.
#[derive(Clone, Debug, PartialEq)]
pub struct CallRef {
    /// The calling instance.
    pub task: u32,
    /// The caller's suspension that waits for the reply (a stale reply is ignored).
    pub epoch: u32,
    /// The service.
    pub service: u16,
    /// The caller's stable id.
    pub caller: Id,
    /// The service's stable id.
    pub svc: Id,
    /// The arguments or result as the trace shows them (interned text; none untraced).
    pub shown: Id,
}

/// A call's request or reply: envelopes on the engine's wire, so `[faults]`, partitions,
/// per-service link settings and every strategy apply to them.
#[derive(Clone, Debug, PartialEq)]
pub enum Envelope {
    /// Caller to service.
    Request {
        /// The call.
        call: CallRef,
        /// Its arguments (one value, or a list for several).
        arg: Value,
    },
    /// Service to caller.
    Reply {
        /// The call.
        call: CallRef,
        /// The handler's return value or failure message.
        result: Result<Value, String>,
    },
    /// A service firing a registered callback at the task that registered it.
    Fire {
        /// The service.
        svc: Id,
        /// The task that registered the callback.
        owner: Id,
        /// The callback, by registration number.
        callback: u32,
        /// The event's value.
        value: Value,
        /// The value as the trace shows it.
        shown: Id,
    },
    /// A value sent to a named queue.
    Put {
        /// The sender.
        from: Id,
        /// The queue.
        queue: u16,
        /// The queue's stable id.
        qid: Id,
        /// The value.
        value: Value,
        /// The value as the trace shows it.
        shown: Id,
    },
}

impl Describe for Envelope {
    fn label(&self) -> &'static str {
        match self {
            Envelope::Request { .. } => "request",
            Envelope::Reply { .. } => "reply",
            Envelope::Put { .. } => "put",
            Envelope::Fire { .. } => "fire",
        }
    }

    fn actor(&self) -> Id {
        match self {
            Envelope::Request { call, .. } => call.caller,
            Envelope::Reply { call, .. } => call.svc,
            Envelope::Put { from, .. } => *from,
            Envelope::Fire { svc, .. } => *svc,
        }
    }

    /// A reply belongs to the call that asked for it: two callers' replies are two threads
    /// to a strategy, so PCT can let the later one overtake the earlier.
    fn thread(&self) -> Id {
        match self {
            Envelope::Reply { call, .. } => call.caller,
            _ => self.actor(),
        }
    }

    fn target(&self) -> Id {
        match self {
            Envelope::Request { call, .. } => call.svc,
            Envelope::Reply { call, .. } => call.caller,
            Envelope::Put { qid, .. } => *qid,
            Envelope::Fire { owner, .. } => *owner,
        }
    }

    fn args(&self) -> Args {
        match self {
            Envelope::Request { call, .. } => Args::EMPTY.id("args", call.shown),
            Envelope::Reply { call, result } => Args::EMPTY.b("ok", result.is_ok()).id("result", call.shown),
            Envelope::Put { shown, .. } | Envelope::Fire { shown, .. } => Args::EMPTY.id("value", *shown),
        }
    }
}

/// A callback a task registered with a service (`on S.E { }`).
#[derive(Clone, Debug)]
pub struct Callback {
    /// The service that keeps it.
    pub service: u16,
    /// The event it answers.
    pub event: Arc<str>,
    /// The registering instance.
    pub owner: u32,
    /// Where its body starts in the owner's program.
    pub pc: u32,
    /// The owner's locals when it registered (the body's view of them).
    pub locals: Vec<Value>,
    /// Whether it is still registered.
    pub active: bool,
    /// Times it has run.
    pub runs: u32,
}

/// The event loop's state.
#[derive(Resource, Default, Debug)]
pub struct Sched {
    /// Every instance, by instance number.
    pub tasks: Vec<Meta>,
    /// Lock entities, by lock index.
    pub locks: Vec<Entity>,
    /// Instances ready to run, in the order they became ready.
    pub runnable: Vec<u32>,
    /// Instances due to start on the current tick (started at the next model step).
    pub starting: Vec<u32>,
    /// The tick `steps` counts for.
    pub steps_tick: u64,
    /// Instances in `wait until`, in the order they started waiting.
    pub waiters: Vec<u32>,
    /// Each queue's values, oldest first.
    pub queues: Vec<std::collections::VecDeque<Value>>,
    /// Each queue's values buffered or on their way (what its capacity bounds).
    pub queued: Vec<u32>,
    /// Each queue's receivers waiting for a value, first come first served.
    pub receivers: Vec<Vec<u32>>,
    /// Ids handed out by `new`, by kind.
    pub kinds: std::collections::BTreeMap<Arc<str>, u32>,
    /// Whether shared state changed since waiters and invariants were last checked.
    pub dirty: bool,
    /// Each `[[invariant]]`: whether it has broken in this run (reported once, when first).
    pub broken: Vec<bool>,
    /// Registered callbacks, in registration order.
    pub callbacks: Vec<Callback>,
    /// How many times each event was emitted.
    pub events: Vec<u64>,
    /// Instances created so far, by task.
    pub instances: Vec<u32>,
    /// Whether a task started waiting for a lock or a join since the last check.
    pub blocked_dirty: bool,
    /// Instances in `join`.
    pub joiners: Vec<u32>,
    /// Steps run this tick.
    pub steps: u64,
    /// Steps run this run (bounded by [`MAX_STEPS`]).
    pub fuel: u64,
    /// Tasks that started (true) or ended (false) since the last check, for the liveness
    /// monitor (told of changes only, not of every task on every tick).
    pub liveness: Vec<(Id, bool)>,
}

impl Sched {
    /// Whether a task can run now (the clock must not jump past this tick).
    pub fn busy(&self) -> bool {
        !self.runnable.is_empty() || !self.starting.is_empty()
    }
}

/// Shared variables and service state.
#[derive(Resource, Default, Debug)]
pub struct Shared {
    /// Shared variables, by index.
    pub vars: Vec<Value>,
    /// Each service's state, by index.
    pub services: Vec<Vec<Value>>,
}

/// The name of instance `n` of task `name`: always numbered (`connector#1`), so the first
/// instance has the same kind of name as the ones spawned after it, everywhere it appears.
pub fn instance_name(name: &str, n: u32, _copies: u32) -> String {
    format!("{name}#{n}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Run the next instruction.
    Next,
    /// Preempted: ready again at once.
    Yield,
    /// Suspended (sleep, call, lock, join).
    Suspend,
    /// Finished.
    End,
}

/// Everything a slice touches.
#[derive(SystemParam)]
pub struct Rt<'w, 's> {
    tasks: Query<'w, 's, &'static mut Task>,
    locks: Query<'w, 's, &'static mut Lock>,
    /// The scheduler.
    pub sched: ResMut<'w, Sched>,
    shared: ResMut<'w, Shared>,
    prog: Res<'w, Prog>,
    /// The engine: clock, tape, trace, names, metrics, violations.
    cx: SimCtx<'w>,
    commands: Commands<'w, 's>,
    timers: ResMut<'w, Timers<TaskWake>>,
    out: MessageWriter<'w, Outbound<Envelope>>,
}

fn load(slot: &Value, key: Option<&Value>) -> Result<Value, String> {
    match key {
        None => Ok(slot.clone()),
        Some(k) => slot.index(k),
    }
}

fn store(slot: &mut Value, key: Option<Value>, value: Value) -> Result<(), String> {
    match key {
        None => {
            *slot = value;
            Ok(())
        }
        Some(k) => match slot {
            Value::Map(m) => {
                m.insert(k.key()?, value);
                Ok(())
            }
            other => Err(format!("TypeError: '{}' object does not support item assignment", other.type_name())),
        },
    }
}

fn opt_eval(e: &Option<CExpr>, locals: &[Value]) -> Result<Option<Value>, String> {
    e.as_ref().map(|e| eval(e, &Locals(locals))).transpose()
}

impl Rt<'_, '_> {
    /// Put the model's state back to the start of a run and create locks and the tasks
    /// that start on their own (their start ticks drawn from the tape, in file order).
    pub fn setup(&mut self) {
        let prog = self.prog.0.clone();
        *self.shared = Shared {
            vars: prog.shared.iter().map(|(_, v)| v.clone()).collect(),
            services: prog.services.iter().map(|s| s.state.iter().map(|(_, v)| v.clone()).collect()).collect(),
        };
        *self.sched = Sched {
            events: vec![0; prog.events.len()],
            instances: vec![0; prog.tasks.len()],
            queues: vec![Default::default(); prog.queues.len()],
            queued: vec![0; prog.queues.len()],
            receivers: vec![Vec::new(); prog.queues.len()],
            broken: vec![false; prog.invariants.len()],
            ..Default::default()
        };
        for (i, (n, kind)) in prog.locks.iter().enumerate() {
            let e = self.commands.spawn((Lock::new(i as u16, n.id, *kind), n.id)).id();
            self.sched.locks.push(e);
        }
        for (d, def) in prog.tasks.iter().enumerate() {
            if let Some((lo, hi)) = def.start {
                for _ in 0..def.copies {
                    let at = self.cx.tape.range("task.start", lo, hi);
                    self.new_instance(d as u16, at, Value::None);
                }
            }
        }
    }

    /// One model step: the timers and envelopes the agenda handed over, scripted steps,
    /// then slices until nothing is runnable.
    pub fn step_once(
        &mut self,
        fired: impl Iterator<Item = TaskWake>,
        inbound: impl Iterator<Item = Inbound<Envelope>>,
        acts: impl Iterator<Item = super::actions::Action>,
    ) {
        let now = self.cx.now();
        if self.sched.steps_tick != now {
            self.sched.steps_tick = now;
            self.sched.steps = 0;
        }
        for t in std::mem::take(&mut self.sched.starting) {
            self.start(t);
        }
        for w in fired {
            self.wake(w);
        }
        for m in inbound {
            self.deliver(m);
        }
        for a in acts {
            self.act(a);
        }
        self.settle();
        while !self.sched.runnable.is_empty() {
            let n = self.sched.runnable.len() as u32;
            let k = self.cx.tape.choose("task.pick", n) as usize;
            let k = k.min(self.sched.runnable.len() - 1);
            let t = self.sched.runnable.remove(k);
            self.slice(t);
            self.settle();
        }
    }

    /// After shared state changed: check the invariants (each reported at the first tick it
    /// is false) and wake the `wait until` tasks whose condition now holds.
    fn settle(&mut self) {
        if !self.sched.dirty {
            return;
        }
        self.sched.dirty = false;
        let prog = self.prog.0.clone();
        for (i, inv) in prog.invariants.iter().enumerate() {
            if self.sched.broken[i] {
                continue;
            }
            let env = super::invariants::Final { sched: &self.sched, shared: &self.shared };
            if let Some(detail) = super::invariants::broken(&prog, &env, inv) {
                self.sched.broken[i] = true;
                self.violation(inv.name, detail, Vec::new());
            }
        }
        let waiters = std::mem::take(&mut self.sched.waiters);
        for t in waiters {
            let meta = &self.sched.tasks[t as usize];
            let (entity, id, def) = (meta.entity, meta.id, meta.def);
            let Ok(mut task) = self.tasks.get_mut(entity) else { continue };
            let Status::Until { into } = task.status else { continue };
            let Some(Instr::WaitUntil { cond, .. }) = prog.tasks[def as usize].code.instrs.get(task.pc as usize - 1)
            else {
                continue;
            };
            match eval(cond, &LocalsShared(&task.locals, &self.shared.vars)) {
                Ok(v) if !v.truthy() => {
                    self.sched.waiters.push(t);
                    continue;
                }
                Ok(_) => {
                    if let Some(i) = into {
                        task.locals[i as usize] = Value::Bool(true);
                    }
                }
                Err(m) => task.pending_fail = Some(m),
            }
            task.epoch += 1;
            task.status = Status::Runnable;
            let epoch = task.epoch - 1;
            self.timers.retain(|w| *w != TaskWake::Timeout { task: t, epoch });
            self.sched.runnable.push(t);
            self.event(EventKind::State, id, "wait_over", Id::NONE, Args::EMPTY.s("outcome", "condition"));
        }
    }

    /// Whether `v` is within the value cap; past it the run halts. Storing `v` copied it, so
    /// its size is charged to the run's fuel: without that, a loop storing a list of 100,000
    /// entries on each of its 2,000,000 steps would copy for minutes.
    fn fits(&mut self, v: &Value) -> bool {
        self.fits_size(v.size_up_to(MAX_VALUE_SIZE))
    }

    /// [`Runtime::fits`] for a value of `size` (as [`Value::size_up_to`] counts it).
    fn fits_size(&mut self, size: usize) -> bool {
        if size > MAX_VALUE_SIZE {
            self.cx.halt("max_value_size");
            return false;
        }
        // A scalar (size 1) is in the step's own cost; a string, list or map costs its size.
        self.sched.fuel += size.saturating_sub(1) as u64;
        if self.sched.fuel > MAX_STEPS {
            self.cx.halt("max_steps");
            return false;
        }
        true
    }

    /// Arm a timer `delay` ticks from now (at least one).
    fn arm(&mut self, delay: u64, w: TaskWake) {
        let now = self.cx.now();
        self.timers.after(now, delay, w);
    }

    /// The text a value shows in the trace, as an id (none when not tracing).
    fn shown(&mut self, v: &Value) -> Id {
        if self.cx.trace.on() { self.cx.names.intern(&v.to_string()) } else { Id::NONE }
    }

    fn id(&self, t: u32) -> Id {
        self.sched.tasks[t as usize].id
    }

    fn event(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        self.cx.trace(kind, actor, what, other, args);
    }

    fn tv(&mut self, v: &Value) -> Val {
        if !self.cx.trace.on() {
            return Val::None;
        }
        match v {
            Value::Int(i) if *i >= 0 => Val::U(*i as u64),
            Value::Bool(b) => Val::B(*b),
            Value::None => Val::S("none"),
            Value::Str(s) => Val::Id(self.cx.names.intern(s)),
            other => Val::Id(self.cx.names.intern(&other.to_string())),
        }
    }

    /// Trace arguments of a shared access: the variable, the key if any, the value, the line.
    fn access_args(&mut self, var: Id, key: Option<&Value>, v: &Value, line: u32) -> Args {
        let mut args = Args::EMPTY.id("var", var);
        if let Some(k) = key {
            let k = self.tv(k);
            args = args.with("key", k);
        }
        let v = self.tv(v);
        args.with("value", v).u("line", line.into())
    }

    /// Report a broken invariant; the run goes on.
    fn violation(&mut self, invariant: &'static str, detail: String, ids: Vec<Id>) {
        self.cx.violate(invariant, detail, ids);
    }

    /// Report a broken invariant that stops `task` where it stands (an assertion, a loop that
    /// never awaits): the task ends as failed with `invariant` as its message, and that
    /// failure is not reported a second time as `task_failed`.
    fn stop(&mut self, task: &mut Task, invariant: &'static str, detail: String, ids: Vec<Id>) -> Flow {
        self.violation(invariant, detail, ids);
        self.end(task, End::Failed(invariant.to_owned()), false)
    }

    fn new_instance(&mut self, def: u16, start: u64, arg: Value) -> u32 {
        self.create(def, start, arg, None)
    }

    /// Create an instance of task `def` starting at tick `start`; with `init`, a callback run:
    /// its name, the pc its body starts at and the owner's locals.
    fn create(&mut self, def: u16, start: u64, arg: Value, init: Option<(String, u32, Vec<Value>)>) -> u32 {
        let prog = self.prog.0.clone();
        let d = &prog.tasks[def as usize];
        let (name, n) = match &init {
            Some((name, ..)) => (name.clone(), 0),
            None => {
                let n = self.sched.instances[def as usize] + 1;
                self.sched.instances[def as usize] = n;
                (instance_name(&d.name, n, d.copies), n)
            }
        };
        let id = self.cx.names.intern(&name);
        let ix = self.sched.tasks.len() as u32;
        if self.sched.tasks.len() >= MAX_TASKS {
            // Still created (its caller holds its handle); the run ends after this step.
            self.cx.halt("max_tasks");
        }
        let (pc, mut locals) = match init {
            Some((_, pc, locals)) => (pc, locals),
            None => (0, vec![Value::None; d.code.locals.max(4)]),
        };
        locals[0] = Value::str(&name);
        if n > 0 {
            locals[1] = Value::Int(i64::from(n));
        }
        locals[3] = arg;
        let entity = self.commands.spawn((Task { ix, pc, locals, ..Default::default() }, id)).id();
        self.sched.tasks.push(Meta { entity, id, def, started: false, end: None, cancel: false });
        let now = self.cx.now();
        if start <= now {
            self.sched.starting.push(ix);
        } else {
            self.arm(start - now, TaskWake::Start(ix));
        }
        ix
    }

    fn ready(&mut self, t: u32) {
        self.sched.runnable.push(t);
    }

    fn start(&mut self, t: u32) {
        let meta = &mut self.sched.tasks[t as usize];
        meta.started = true;
        let (entity, cancel, id) = (meta.entity, meta.cancel, meta.id);
        self.sched.liveness.push((id, true));
        let Ok(mut c) = self.tasks.get_mut(entity) else { return };
        let mut task = std::mem::take(&mut *c);
        self.event(EventKind::State, id, "start", Id::NONE, Args::EMPTY);
        if cancel {
            self.finish(&mut task, End::Cancelled);
        } else {
            task.status = Status::Runnable;
            self.ready(t);
        }
        if let Ok(mut c) = self.tasks.get_mut(entity) {
            *c = task;
        }
    }

    fn wake(&mut self, w: TaskWake) {
        match w {
            TaskWake::Start(t) => self.start(t),
            TaskWake::Resume { task: t, epoch } => {
                let entity = self.sched.tasks[t as usize].entity;
                if let Ok(mut task) = self.tasks.get_mut(entity)
                    && task.epoch == epoch
                    && task.status == Status::Sleeping
                {
                    task.status = Status::Runnable;
                    self.sched.runnable.push(t);
                }
            }
            TaskWake::Timeout { task: t, epoch } => {
                let entity = self.sched.tasks[t as usize].entity;
                let me = self.id(t);
                let Ok(mut task) = self.tasks.get_mut(entity) else { return };
                if task.epoch != epoch {
                    return;
                }
                let what = match task.status {
                    Status::Calling { service, .. } => {
                        task.pending_fail = Some(format!(
                            "TimeoutError: {} did not answer in time",
                            self.prog.0.services[service as usize].named.name
                        ));
                        "call"
                    }
                    Status::Until { into: Some(i) } => {
                        task.locals[i as usize] = Value::Bool(false);
                        self.sched.waiters.retain(|&w| w != t);
                        "wait"
                    }
                    Status::Until { into: None } => {
                        task.pending_fail = Some("TimeoutError: the condition did not hold in time".into());
                        self.sched.waiters.retain(|&w| w != t);
                        "wait"
                    }
                    Status::Receiving { queue, .. } => {
                        task.pending_fail = Some(format!(
                            "TimeoutError: nothing arrived on {} in time",
                            self.prog.0.queues[queue as usize].0.name
                        ));
                        self.sched.receivers[queue as usize].retain(|&w| w != t);
                        "recv"
                    }
                    _ => return,
                };
                task.epoch += 1;
                task.status = Status::Runnable;
                self.sched.runnable.push(t);
                self.event(EventKind::Note, me, "timeout", Id::NONE, Args::EMPTY.s("wait", what));
            }
        }
    }

    /// An envelope the wire handed over: a request reaches its service (which answers at
    /// once, on its own state), a reply or a bounce reaches its caller.
    fn deliver(&mut self, m: Inbound<Envelope>) {
        let prog = self.prog.0.clone();
        match m.msg {
            Envelope::Request { call, .. } | Envelope::Reply { call, .. } if m.bounced => {
                let name = &prog.services[call.service as usize].named.name;
                self.answer(call, Err(format!("ConnectionError: {name} did not answer")));
            }
            Envelope::Request { call, arg } => {
                let result = self.serve(&prog, call.service, arg, call.caller);
                let ok = result.is_ok();
                self.event(EventKind::Call, call.svc, "serve", call.caller, Args::EMPTY.b("ok", ok));
                let shown = match &result {
                    Ok(v) => self.shown(v),
                    Err(e) => self.shown(&Value::str(e)),
                };
                self.out.write(Outbound(Envelope::Reply { call: CallRef { shown, ..call }, result }));
            }
            Envelope::Reply { call, result } => self.answer(call, result),
            Envelope::Fire { callback, value, .. } => {
                // A callback unregistered while the event was on its way does not run.
                let Some(cb) = self.sched.callbacks.get_mut(callback as usize) else { return };
                if !cb.active {
                    return;
                }
                cb.runs += 1;
                let (owner, pc, locals, event, k) = (cb.owner, cb.pc, cb.locals.clone(), cb.event.clone(), cb.runs);
                let def = self.sched.tasks[owner as usize].def;
                let name = format!("{}.on_{event}#{k}", self.cx.names.name(self.id(owner)));
                let now = self.cx.now();
                self.create(def, now + 1, value, Some((name, pc, locals)));
            }
            Envelope::Put { queue, value, from, .. } => {
                let q = queue as usize;
                if self.sched.receivers[q].is_empty() {
                    self.sched.queues[q].push_back(value);
                    return;
                }
                let r = self.sched.receivers[q].remove(0);
                self.sched.queued[q] = self.sched.queued[q].saturating_sub(1);
                self.hand(r, value, from);
            }
        }
    }

    /// A value reaches receiver `r` waiting in `recv`.
    fn hand(&mut self, r: u32, value: Value, from: Id) {
        let meta = &self.sched.tasks[r as usize];
        let (entity, id) = (meta.entity, meta.id);
        let Ok(mut task) = self.tasks.get_mut(entity) else { return };
        let Status::Receiving { into, .. } = task.status else { return };
        let shown = if self.cx.trace.on() { self.cx.names.intern(&value.to_string()) } else { Id::NONE };
        if let Some(i) = into {
            task.locals[i as usize] = value;
        }
        let epoch = task.epoch;
        task.epoch += 1;
        task.status = Status::Runnable;
        self.timers.retain(|w| *w != TaskWake::Timeout { task: r, epoch });
        self.sched.runnable.push(r);
        self.event(EventKind::Call, id, "recv", from, Args::EMPTY.id("value", shown));
    }

    /// A call's outcome reaches its caller, unless the caller stopped waiting for it.
    fn answer(&mut self, call: CallRef, result: Result<Value, String>) {
        let t = call.task;
        let entity = self.sched.tasks[t as usize].entity;
        let Ok(mut task) = self.tasks.get_mut(entity) else { return };
        let Status::Calling { into, .. } = task.status else { return };
        if task.epoch != call.epoch {
            return;
        }
        let ok = result.is_ok();
        match result {
            Ok(v) => {
                if let Some(i) = into {
                    task.locals[i as usize] = v;
                }
            }
            Err(m) => task.pending_fail = Some(m),
        }
        task.status = Status::Runnable;
        self.sched.runnable.push(t);
        let epoch = call.epoch;
        self.timers.retain(|w| *w != TaskWake::Timeout { task: t, epoch });
        self.event(EventKind::Call, call.caller, "reply", call.svc, Args::EMPTY.b("ok", ok).id("result", call.shown));
    }

    fn act(&mut self, a: super::actions::Action) {
        use super::actions::Action;
        match a {
            Action::Spawn { task, .. } => {
                self.new_instance(task, self.cx.now() + 1, Value::None);
            }
            Action::Cancel { task, .. } => {
                let live: Vec<u32> = (0..self.sched.tasks.len() as u32)
                    .filter(|&i| {
                        let m = &self.sched.tasks[i as usize];
                        m.def == task && m.end.is_none()
                    })
                    .collect();
                for i in live {
                    self.cancel_other(i);
                }
            }
            Action::Write { var, value, .. } => {
                self.shared.vars[var as usize] = value;
                self.sched.dirty = true;
            }
        }
    }

    fn slice(&mut self, t: u32) {
        let prog = self.prog.0.clone();
        let entity = self.sched.tasks[t as usize].entity;
        let Ok(mut c) = self.tasks.get_mut(entity) else { return };
        let mut task = std::mem::take(&mut *c);
        task.status = Status::Runnable;
        // `now` as this task's clock reads it: running takes no time, so once per slice.
        let skew = prog.tasks[self.sched.tasks[t as usize].def as usize].skew;
        task.locals[2] = Value::Int((self.cx.now() as i64).saturating_add(skew));
        let mut flow = if self.sched.tasks[t as usize].cancel {
            self.finish(&mut task, End::Cancelled)
        } else if let Some(m) = task.pending_fail.take() {
            self.raise(&mut task, m)
        } else {
            Flow::Next
        };
        while flow == Flow::Next {
            flow = self.step(&mut task, &prog);
        }
        if flow == Flow::Yield {
            self.sched.runnable.push(t);
        }
        if let Ok(mut c) = self.tasks.get_mut(entity) {
            *c = task;
        }
    }

    fn step(&mut self, task: &mut Task, prog: &Compiled) -> Flow {
        let t = task.ix;
        let me = self.id(t);
        self.sched.steps += 1;
        let def = self.sched.tasks[t as usize].def as usize;
        let code = &prog.tasks[def].code;
        let pc = task.pc as usize;
        let Some(instr) = code.instrs.get(pc) else {
            return self.finish(task, End::Returned(Value::None));
        };
        let line = code.lines[pc];
        self.sched.fuel += 1;
        if self.sched.fuel > MAX_STEPS {
            self.cx.halt("max_steps");
            return Flow::Suspend;
        }
        if self.sched.steps > STEP_BUDGET {
            let detail = format!(
                "{} ran {STEP_BUDGET} steps in one tick without waiting (line {line}): a loop with no `await` blocks the event loop",
                self.cx.names.name(me)
            );
            return self.stop(task, "event_loop_blocked", detail, vec![me]);
        }
        task.pc += 1;
        let cancel = self.sched.tasks[t as usize].cancel;
        macro_rules! value {
            ($e:expr) => {
                match eval($e, &Locals(&task.locals)) {
                    Ok(v) => v,
                    Err(m) => return self.raise(task, m),
                }
            };
        }
        macro_rules! opt_value {
            ($e:expr) => {
                match opt_eval($e, &task.locals) {
                    Ok(v) => v,
                    Err(m) => return self.raise(task, m),
                }
            };
        }
        let flow = match instr {
            Instr::Read { var, key, into } => {
                let key = opt_value!(key);
                let v = match load(&self.shared.vars[*var as usize], key.as_ref()) {
                    Ok(v) => v,
                    Err(m) => return self.raise(task, m),
                };
                // Reading copied it: charged like a store.
                if !self.fits(&v) {
                    return Flow::Suspend;
                }
                let args = self.access_args(prog.shared[*var as usize].0.id, key.as_ref(), &v, line);
                self.event(EventKind::Call, me, "read", Id::NONE, args);
                task.locals[*into as usize] = v;
                Flow::Next
            }
            Instr::Write { var, key, value } => {
                let key = opt_value!(key);
                let v = value!(value);
                if !self.fits(&v) {
                    return Flow::Suspend;
                }
                self.sched.dirty = true;
                let args = self.access_args(prog.shared[*var as usize].0.id, key.as_ref(), &v, line);
                if let Err(m) = store(&mut self.shared.vars[*var as usize], key, v) {
                    return self.raise(task, m);
                }
                // An entry at a time, a shared map can outgrow the cap too.
                if !self.fits_size(self.shared.vars[*var as usize].size_up_to(MAX_VALUE_SIZE)) {
                    return Flow::Suspend;
                }
                self.event(EventKind::Call, me, "write", Id::NONE, args);
                Flow::Next
            }
            Instr::Delete { var, key } => {
                self.sched.dirty = true;
                let k = value!(key);
                let k = match k.key() {
                    Ok(k) => k,
                    Err(m) => return self.raise(task, m),
                };
                match &mut self.shared.vars[*var as usize] {
                    Value::Map(m) => {
                        m.remove(&k);
                    }
                    other => {
                        let m = format!("TypeError: '{}' object does not support item deletion", other.type_name());
                        return self.raise(task, m);
                    }
                }
                let vid = prog.shared[*var as usize].0.id;
                self.event(EventKind::Call, me, "delete", Id::NONE, Args::EMPTY.id("var", vid).u("line", line.into()));
                Flow::Next
            }
            Instr::Set { local, key, value } => {
                let key = opt_value!(key);
                let v = value!(value);
                if !self.fits(&v) {
                    return Flow::Suspend;
                }
                if let Err(m) = store(&mut task.locals[*local as usize], key, v) {
                    return self.raise(task, m);
                }
                if !self.fits(&task.locals[*local as usize]) {
                    return Flow::Suspend;
                }
                Flow::Next
            }
            Instr::WaitUntil { cond, timeout, into } => {
                if cancel {
                    return self.finish(task, End::Cancelled);
                }
                let held = match eval(cond, &LocalsShared(&task.locals, &self.shared.vars)) {
                    Ok(v) => v.truthy(),
                    Err(m) => return self.raise(task, m),
                };
                if held {
                    if let Some(i) = into {
                        task.locals[*i as usize] = Value::Bool(true);
                    }
                    Flow::Next
                } else {
                    let timeout = match self.ticks_of(opt_value!(timeout)) {
                        Ok(t) => t,
                        Err(m) => return self.raise(task, m),
                    };
                    task.epoch += 1;
                    if let Some(n) = timeout {
                        self.arm(n, TaskWake::Timeout { task: t, epoch: task.epoch });
                    }
                    task.status = Status::Until { into: *into };
                    self.sched.waiters.push(t);
                    self.event(EventKind::State, me, "wait_until", Id::NONE, Args::EMPTY.u("line", line.into()));
                    Flow::Suspend
                }
            }
            Instr::Send { queue, value } => {
                let v = value!(value);
                if !self.fits(&v) {
                    return Flow::Suspend;
                }
                let q = *queue as usize;
                let (qn, cap) = (&prog.queues[q].0, prog.queues[q].1);
                if cap > 0 && self.sched.queued[q] >= cap {
                    return self.raise(task, format!("QueueFull: {} holds {cap}", qn.name));
                }
                self.sched.queued[q] += 1;
                let shown = self.shown(&v);
                self.out.write(Outbound(Envelope::Put { from: me, queue: *queue, qid: qn.id, value: v, shown }));
                Flow::Next
            }
            Instr::Recv { queue, timeout, into } => {
                if cancel {
                    return self.finish(task, End::Cancelled);
                }
                let q = *queue as usize;
                if let Some(v) = self.sched.queues[q].pop_front() {
                    self.sched.queued[q] = self.sched.queued[q].saturating_sub(1);
                    let shown = self.shown(&v);
                    if let Some(i) = into {
                        task.locals[*i as usize] = v;
                    }
                    let qid = prog.queues[q].0.id;
                    self.event(EventKind::Call, me, "recv", qid, Args::EMPTY.id("value", shown));
                    Flow::Next
                } else {
                    let timeout = match self.ticks_of(opt_value!(timeout)) {
                        Ok(t) => t,
                        Err(m) => return self.raise(task, m),
                    };
                    task.epoch += 1;
                    if let Some(n) = timeout {
                        self.arm(n, TaskWake::Timeout { task: t, epoch: task.epoch });
                    }
                    task.status = Status::Receiving { queue: *queue, into: *into };
                    self.sched.receivers[q].push(t);
                    let qid = prog.queues[q].0.id;
                    self.event(EventKind::State, me, "wait_recv", qid, Args::EMPTY.u("line", line.into()));
                    Flow::Suspend
                }
            }
            Instr::On { service, event, start } => {
                self.sched.callbacks.push(Callback {
                    service: *service,
                    event: event.clone(),
                    owner: t,
                    pc: *start,
                    locals: task.locals.clone(),
                    active: true,
                    runs: 0,
                });
                let sid = prog.services[*service as usize].named.id;
                self.event(EventKind::State, me, "on", sid, Args::EMPTY.u("line", line.into()));
                Flow::Next
            }
            // The compiler keeps `fire` and `ReadShared` in handlers.
            Instr::Fire { .. } | Instr::ReadShared { .. } => {
                return self.raise(task, "internal: a task cannot fire".into());
            }
            Instr::Off { service, event } => {
                for cb in &mut self.sched.callbacks {
                    if cb.owner == t && cb.service == *service && cb.event == *event {
                        cb.active = false;
                    }
                }
                let sid = prog.services[*service as usize].named.id;
                self.event(EventKind::State, me, "off", sid, Args::EMPTY.u("line", line.into()));
                Flow::Next
            }
            Instr::New { kind, into } => {
                let n = {
                    let c = self.sched.kinds.entry(kind.clone()).or_insert(0);
                    *c += 1;
                    *c
                };
                task.locals[*into as usize] = Value::str(&format!("{kind}#{n}"));
                Flow::Next
            }
            Instr::Acquire { lock, mode, with } => {
                let lid = prog.locks[*lock as usize].0.id;
                let entity = self.sched.locks[*lock as usize];
                let granted = match self.locks.get_mut(entity) {
                    Ok(mut l) => l.acquire(Waiter { task: t, mode: *mode, line, with: *with }),
                    Err(_) => true,
                };
                if granted {
                    if *with {
                        task.handlers.push(Handler::With { lock: *lock });
                    }
                    self.event(
                        EventKind::State,
                        me,
                        "lock",
                        lid,
                        Args::EMPTY.s("mode", mode.statement()).u("line", line.into()),
                    );
                    Flow::Next
                } else if cancel {
                    self.withdraw(t, *lock);
                    self.finish(task, End::Cancelled)
                } else {
                    task.status = Status::Blocked { lock: *lock, mode: *mode, line };
                    self.sched.blocked_dirty = true;
                    self.event(
                        EventKind::State,
                        me,
                        "wait",
                        lid,
                        Args::EMPTY.s("mode", mode.statement()).u("line", line.into()),
                    );
                    Flow::Suspend
                }
            }
            Instr::Release { lock } => match self.release(t, *lock, line) {
                Ok(()) => Flow::Next,
                Err(m) => return self.raise(task, m),
            },
            Instr::Await { lo, hi } => {
                if cancel {
                    return self.finish(task, End::Cancelled);
                }
                let d = self.cx.tape.range("await.ticks", *lo, *hi);
                task.epoch += 1;
                task.status = Status::Sleeping;
                self.arm(d, TaskWake::Resume { task: t, epoch: task.epoch });
                self.event(EventKind::State, me, "sleep", Id::NONE, Args::EMPTY.u("ticks", d).u("line", line.into()));
                Flow::Suspend
            }
            Instr::Call { service, arg, into, timeout } => {
                if cancel {
                    return self.finish(task, End::Cancelled);
                }
                let arg = opt_value!(arg).unwrap_or_default();
                let timeout = match opt_value!(timeout) {
                    None => None,
                    Some(Value::Int(n)) if n > 0 => Some(n as u64),
                    Some(other) => {
                        return self.raise(
                            task,
                            format!("ValueError: a call's timeout must be a positive integer, found {other}"),
                        );
                    }
                };
                let svc = &prog.services[*service as usize];
                task.epoch += 1;
                let shown = self.shown(&arg);
                let call =
                    CallRef { task: t, epoch: task.epoch, service: *service, caller: me, svc: svc.named.id, shown };
                self.out.write(Outbound(Envelope::Request { call, arg }));
                if let Some(n) = timeout {
                    self.arm(n, TaskWake::Timeout { task: t, epoch: task.epoch });
                }
                task.status = Status::Calling { into: *into, service: *service };
                self.event(
                    EventKind::Call,
                    me,
                    "call",
                    svc.named.id,
                    Args::EMPTY.id("args", shown).u("line", line.into()),
                );
                Flow::Suspend
            }
            Instr::Jump(to) => {
                task.pc = *to;
                Flow::Next
            }
            Instr::JumpUnless(c, to) => {
                if !value!(c).truthy() {
                    task.pc = *to;
                }
                Flow::Next
            }
            Instr::PushTry { catch, bind } => {
                task.handlers.push(Handler::Try { catch: *catch, bind: *bind });
                Flow::Next
            }
            Instr::PushRetry { times, otherwise } => {
                task.handlers.push(Handler::Retry {
                    start: task.pc,
                    left: times - 1,
                    times: *times,
                    otherwise: *otherwise,
                });
                Flow::Next
            }
            Instr::Pop => match task.handlers.pop() {
                Some(Handler::With { lock }) => match self.release(t, lock, line) {
                    Ok(()) => Flow::Next,
                    Err(m) => return self.raise(task, m),
                },
                _ => Flow::Next,
            },
            Instr::Spawn { task: def, arg, into } => {
                let arg = opt_value!(arg).unwrap_or_default();
                let child = self.new_instance(*def, self.cx.now() + 1, arg);
                if let Some(i) = into {
                    let name: Arc<str> = Arc::from(self.cx.names.name(self.id(child)));
                    task.locals[*i as usize] = Value::Task(child, name);
                }
                let cid = self.id(child);
                self.event(EventKind::Call, me, "spawn", cid, Args::EMPTY.u("line", line.into()));
                Flow::Next
            }
            Instr::Cancel(target) => {
                let targets = match self.resolve(target, task) {
                    Ok(v) => v,
                    Err(m) => return self.raise(task, m),
                };
                for x in targets {
                    let xid = self.id(x);
                    self.event(EventKind::Call, me, "cancel", xid, Args::EMPTY.u("line", line.into()));
                    if x == t {
                        self.sched.tasks[t as usize].cancel = true;
                    } else {
                        self.cancel_other(x);
                    }
                }
                Flow::Next
            }
            Instr::Join(target) => {
                let targets = match self.resolve(target, task) {
                    Ok(v) => v,
                    Err(m) => return self.raise(task, m),
                };
                if targets.contains(&t) {
                    return self.raise(task, "RuntimeError: a task cannot join itself".into());
                }
                let on: Vec<u32> =
                    targets.into_iter().filter(|&x| self.sched.tasks[x as usize].end.is_none()).collect();
                if on.is_empty() {
                    Flow::Next
                } else if cancel {
                    self.finish(task, End::Cancelled)
                } else {
                    let first = self.id(on[0]);
                    task.status = Status::Joining { on, line };
                    self.sched.joiners.push(t);
                    self.sched.blocked_dirty = true;
                    self.event(EventKind::State, me, "join", first, Args::EMPTY.u("line", line.into()));
                    Flow::Suspend
                }
            }
            Instr::Assert { cond, message } => {
                if value!(cond).truthy() {
                    Flow::Next
                } else {
                    let text = code.texts[pc].as_deref().unwrap_or("");
                    let detail = format!("{} line {line}: {message} (`{text}` is false)", self.cx.names.name(me));
                    return self.stop(task, "assert", detail, vec![me]);
                }
            }
            Instr::Emit(e) => {
                self.sched.events[*e as usize] += 1;
                let eid = prog.events[*e as usize].id;
                self.event(EventKind::Note, me, "emit", Id::NONE, Args::EMPTY.id("event", eid).u("line", line.into()));
                Flow::Next
            }
            Instr::Return(v) => {
                let v = opt_value!(v).unwrap_or_default();
                return self.finish(task, End::Returned(v));
            }
            Instr::Fail(m) => {
                let m = value!(m).plain();
                return self.raise(task, m);
            }
        };
        if flow == Flow::Next && prog.options.scheduling == Scheduling::Preemptive && instr.visible() {
            Flow::Yield
        } else {
            flow
        }
    }

    /// A timeout's value as ticks.
    fn ticks_of(&self, v: Option<Value>) -> Result<Option<u64>, String> {
        match v {
            None => Ok(None),
            Some(Value::Int(n)) if n > 0 => Ok(Some(n as u64)),
            Some(other) => Err(format!("ValueError: a timeout must be a positive number of ticks, found {other}")),
        }
    }

    fn resolve(&self, target: &Target, task: &Task) -> Result<Vec<u32>, String> {
        match target {
            Target::Task(def) => Ok((0..self.sched.tasks.len() as u32)
                .filter(|&i| {
                    let m = &self.sched.tasks[i as usize];
                    m.def == *def && m.end.is_none()
                })
                .collect()),
            Target::Local(l) => match &task.locals[*l as usize] {
                Value::Task(x, _) => Ok(vec![*x]),
                other => Err(format!("TypeError: expected a task handle, found {}", other.type_name())),
            },
        }
    }

    /// Release `lock` for task `t` and hand it to the waiters that now hold it.
    fn release(&mut self, t: u32, lock: u16, line: u32) -> Result<(), String> {
        let entity = self.sched.locks[lock as usize];
        let granted = match self.locks.get_mut(entity) {
            Ok(mut l) => l.release(t)?,
            Err(_) => Vec::new(),
        };
        let (me, lid) = (self.id(t), self.prog.0.locks[lock as usize].0.id);
        self.event(EventKind::State, me, "unlock", lid, Args::EMPTY.u("line", line.into()));
        for w in granted {
            self.granted(lock, w);
        }
        Ok(())
    }

    fn withdraw(&mut self, t: u32, lock: u16) {
        let entity = self.sched.locks[lock as usize];
        let granted = match self.locks.get_mut(entity) {
            Ok(mut l) => l.withdraw(t),
            Err(_) => Vec::new(),
        };
        for w in granted {
            self.granted(lock, w);
        }
    }

    /// A waiter got the lock: it runs again, inside its `with` block if it was one.
    fn granted(&mut self, lock: u16, w: Waiter) {
        let meta = &self.sched.tasks[w.task as usize];
        let (entity, id) = (meta.entity, meta.id);
        if let Ok(mut task) = self.tasks.get_mut(entity) {
            if w.with {
                task.handlers.push(Handler::With { lock });
            }
            task.status = Status::Runnable;
        }
        self.sched.runnable.push(w.task);
        let lid = self.prog.0.locks[lock as usize].0.id;
        self.event(
            EventKind::State,
            id,
            "lock",
            lid,
            Args::EMPTY.s("mode", w.mode.statement()).u("line", w.line.into()),
        );
    }

    /// Cancel a task other than the one running: it raises CancelledError when it next runs,
    /// so a suspended one is made ready now.
    fn cancel_other(&mut self, x: u32) {
        let meta = &mut self.sched.tasks[x as usize];
        if meta.end.is_some() {
            return;
        }
        meta.cancel = true;
        let entity = meta.entity;
        let status = match self.tasks.get(entity) {
            Ok(task) => task.status.clone(),
            Err(_) => return,
        };
        match status {
            Status::NotStarted | Status::Runnable | Status::Done => return,
            Status::Blocked { lock, .. } => self.withdraw(x, lock),
            Status::Joining { .. } => self.sched.joiners.retain(|&j| j != x),
            Status::Until { .. } => self.sched.waiters.retain(|&j| j != x),
            Status::Receiving { queue, .. } => self.sched.receivers[queue as usize].retain(|&j| j != x),
            Status::Sleeping | Status::Calling { .. } => {}
        }
        if let Ok(mut task) = self.tasks.get_mut(entity) {
            task.epoch += 1;
            task.status = Status::Runnable;
        }
        self.sched.runnable.push(x);
    }

    /// Raise `msg` in `task`: unwind to the innermost `try` or `retry`, releasing the locks of
    /// the `with` blocks left on the way; with none, the task fails.
    fn raise(&mut self, task: &mut Task, mut msg: String) -> Flow {
        let t = task.ix;
        let me = self.id(t);
        while let Some(h) = task.handlers.pop() {
            match h {
                Handler::With { lock } => {
                    let _ = self.release(t, lock, 0);
                }
                Handler::Try { catch, bind } => {
                    if let Some(b) = bind {
                        task.locals[b as usize] = Value::str(&msg);
                    }
                    task.pc = catch;
                    self.cx.metrics.add("tasks.caught", 1);
                    self.event(EventKind::Note, me, "caught", Id::NONE, Args::EMPTY);
                    return Flow::Next;
                }
                Handler::Retry { start, left, times, otherwise } => {
                    if left > 0 {
                        task.handlers.push(Handler::Retry { start, left: left - 1, times, otherwise });
                        task.pc = start;
                        self.cx.metrics.add("tasks.retried", 1);
                        self.event(EventKind::Note, me, "retry", Id::NONE, Args::EMPTY.u("left", left.into()));
                        return Flow::Next;
                    }
                    if let Some(o) = otherwise {
                        task.pc = o;
                        self.event(EventKind::Note, me, "exhausted", Id::NONE, Args::EMPTY);
                        return Flow::Next;
                    }
                    msg = format!("RetryError: gave up after {times} attempts: {msg}");
                }
            }
        }
        self.finish(task, End::Failed(msg))
    }

    /// End `task`: leave every `with` block (releasing its lock), record how it ended,
    /// and wake the tasks joining it.
    fn finish(&mut self, task: &mut Task, end: End) -> Flow {
        self.end(task, end, true)
    }

    /// End `task`; with `report`, a failure is the violation `task_failed`.
    fn end(&mut self, task: &mut Task, end: End, report: bool) -> Flow {
        let t = task.ix;
        let me = self.id(t);
        while let Some(h) = task.handlers.pop() {
            if let Handler::With { lock } = h {
                let _ = self.release(t, lock, 0);
            }
        }
        task.status = Status::Done;
        let how = match &end {
            End::Returned(_) => "returned",
            End::Failed(_) => "failed",
            End::Cancelled => "cancelled",
        };
        self.cx.metrics.add(
            match end {
                End::Returned(_) => "tasks.returned",
                End::Failed(_) => "tasks.failed",
                End::Cancelled => "tasks.cancelled",
            },
            1,
        );
        self.event(EventKind::State, me, "end", Id::NONE, Args::EMPTY.s("how", how));
        let failed = match &end {
            End::Failed(m) => Some(m.clone()),
            _ => None,
        };
        self.sched.tasks[t as usize].end = Some(end);
        self.sched.liveness.push((me, false));
        let joiners = std::mem::take(&mut self.sched.joiners);
        for j in joiners {
            let entity = self.sched.tasks[j as usize].entity;
            let done = match self.tasks.get(entity) {
                Ok(jt) => match &jt.status {
                    Status::Joining { on, .. } => on.iter().all(|&x| self.sched.tasks[x as usize].end.is_some()),
                    _ => true,
                },
                Err(_) => true,
            };
            if done {
                if let Ok(mut jt) = self.tasks.get_mut(entity) {
                    jt.status = Status::Runnable;
                }
                self.sched.runnable.push(j);
            } else {
                self.sched.joiners.push(j);
            }
        }
        if let Some(m) = failed
            && report
            && !self.prog.0.options.allow_failures
        {
            let detail = format!("{} ended in fail: {m}", self.cx.names.name(me));
            self.violation("task_failed", detail, vec![me]);
        }
        Flow::End
    }

    /// Run service `s`'s handler on a call: at once, on the service's own state.
    fn serve(&mut self, prog: &Compiled, s: u16, arg: Value, caller: Id) -> Result<Value, String> {
        let svc = &prog.services[s as usize];
        let Some(code) = &svc.handler else { return Ok(Value::None) };
        let mut locals = vec![Value::None; code.locals.max(2)];
        locals[0] = arg;
        locals[1] = Value::Int((self.cx.now() as i64).saturating_add(svc.skew));
        let mut pc = 0usize;
        let mut steps = 0u64;
        loop {
            let Some(instr) = code.instrs.get(pc) else { return Ok(Value::None) };
            let line = code.lines[pc];
            pc += 1;
            steps += 1;
            self.sched.fuel += 1;
            if self.sched.fuel > MAX_STEPS {
                self.cx.halt("max_steps");
                return Err("halted".into());
            }
            if steps > STEP_BUDGET {
                let detail = format!("service {} ran {STEP_BUDGET} steps on one call (line {line})", svc.named.name);
                self.violation("event_loop_blocked", detail, vec![svc.named.id]);
                return Err("blocked".into());
            }
            let state = &mut self.shared.services[s as usize];
            match instr {
                Instr::Read { var, key, into } => {
                    let key = opt_eval(key, &locals)?;
                    locals[*into as usize] = load(&state[*var as usize], key.as_ref())?;
                    // Reading copied it: charged like a store.
                    if !self.fits(&locals[*into as usize]) {
                        return Err("halted".into());
                    }
                }
                Instr::Write { var, key, value } => {
                    let key = opt_eval(key, &locals)?;
                    let v = eval(value, &Locals(&locals))?;
                    store(&mut state[*var as usize], key, v)?;
                    if !self.fits_size(self.shared.services[s as usize][*var as usize].size_up_to(MAX_VALUE_SIZE)) {
                        return Err("halted".into());
                    }
                }
                Instr::Delete { var, key } => {
                    let k = eval(key, &Locals(&locals))?.key()?;
                    if let Value::Map(m) = &mut state[*var as usize] {
                        m.remove(&k);
                    }
                }
                Instr::Set { local, key, value } => {
                    let key = opt_eval(key, &locals)?;
                    let v = eval(value, &Locals(&locals))?;
                    store(&mut locals[*local as usize], key, v)?;
                    if !self.fits(&locals[*local as usize]) {
                        return Err("halted".into());
                    }
                }
                Instr::Send { queue, value } => {
                    let v = eval(value, &Locals(&locals))?;
                    let q = *queue as usize;
                    let (qn, cap) = (&prog.queues[q].0, prog.queues[q].1);
                    if cap > 0 && self.sched.queued[q] >= cap {
                        return Err(format!("QueueFull: {} holds {cap}", qn.name));
                    }
                    self.sched.queued[q] += 1;
                    let shown = self.shown(&v);
                    let put = Envelope::Put { from: svc.named.id, queue: *queue, qid: qn.id, value: v, shown };
                    self.out.write(Outbound(put));
                }
                Instr::ReadShared { var, key, into } => {
                    let key = opt_eval(key, &locals)?;
                    locals[*into as usize] = load(&self.shared.vars[*var as usize], key.as_ref())?;
                }
                Instr::Fire { event, value } => {
                    let v = opt_eval(value, &locals)?.unwrap_or_default();
                    let shown = self.shown(&v);
                    for i in 0..self.sched.callbacks.len() {
                        let cb = &self.sched.callbacks[i];
                        if cb.active && cb.service == s && cb.event == *event {
                            let owner = self.sched.tasks[cb.owner as usize].id;
                            let fire = Envelope::Fire {
                                svc: svc.named.id,
                                owner,
                                callback: i as u32,
                                value: v.clone(),
                                shown,
                            };
                            self.out.write(Outbound(fire));
                        }
                    }
                }
                Instr::New { kind, into } => {
                    let c = self.sched.kinds.entry(kind.clone()).or_insert(0);
                    *c += 1;
                    locals[*into as usize] = Value::str(&format!("{kind}#{c}"));
                }
                Instr::Jump(to) => pc = *to as usize,
                Instr::JumpUnless(c, to) => {
                    if !eval(c, &Locals(&locals))?.truthy() {
                        pc = *to as usize;
                    }
                }
                Instr::Emit(e) => {
                    self.sched.events[*e as usize] += 1;
                    let eid = prog.events[*e as usize].id;
                    self.event(
                        EventKind::Note,
                        svc.named.id,
                        "emit",
                        caller,
                        Args::EMPTY.id("event", eid).u("line", line.into()),
                    );
                }
                Instr::Assert { cond, message } => {
                    if !eval(cond, &Locals(&locals))?.truthy() {
                        let text = code.texts[pc - 1].as_deref().unwrap_or("");
                        let detail = format!("service {} line {line}: {message} (`{text}` is false)", svc.named.name);
                        self.violation("assert", detail, vec![svc.named.id]);
                        return Err("assertion failed".into());
                    }
                }
                Instr::Return(v) => return Ok(opt_eval(v, &locals)?.unwrap_or_default()),
                Instr::Fail(m) => return Err(eval(m, &Locals(&locals))?.plain()),
                // The compiler keeps every waiting statement out of handlers.
                _ => return Err("internal: a handler cannot wait".into()),
            }
        }
    }
}
