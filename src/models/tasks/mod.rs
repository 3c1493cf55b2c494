//! Interleaved async tasks over shared variables and locks, written as data in the scenario
//! (seed 002: a chat bot's double lock, lost updates, token refresh races, lock-order
//! deadlocks, lost increments, retries that return nothing, hooks that abort their caller,
//! background tasks that outlive shutdown).
//!
//! A scenario declares shared variables, locks, services and tasks, and gives each variant
//! its own programs (see [`spec`] for the file layout). Tasks are entities with a program
//! counter; each tick the tape picks which ready task runs next (see [`runtime`]).
//!
//! # The language
//!
//! The full reference, with an example of every construct, is `docs/language.md`; this is a
//! summary.
//!
//! One statement per line (or separated by `;`), blocks in braces opened on the line of
//! their statement, `#` comments. A program sees its locals: `self` (the instance's name,
//! `"bot#2"`), `copy` (its number) and whatever it assigns. Shared variables are reached only
//! through `read` and `write`, so every shared access is a step another task can come
//! between. A service handler sees `arg`, and its `read`/`write` reach the service's state.
//!
//! | statement | meaning |
//! |---|---|
//! | `lock L`, `unlock L` | a mutex as asyncio.Lock: FIFO, not re-entrant; any task may unlock it; unlocking a free lock raises |
//! | `read_lock L`, `write_lock L` | a reader-writer lock, FIFO (a reader waits behind a queued writer) |
//! | `with [read\|write] L { ... }` | `async with`: the lock is released however the block is left |
//! | `read VAR -> x`, `read VAR[k] -> x` | copy a shared variable (or map entry; a missing key reads none) into a local |
//! | `write VAR = e`, `write VAR[k] = e`, `delete VAR[k]` | store into shared state |
//! | `set x = e`, `set x[k] = e` | assign a local |
//! | `await n`, `await [a, b]` | sleep a tape-chosen number of ticks (at least 1) |
//! | `call S -> x`, `call S(e) [timeout n] -> x` | call a service: a request and a reply envelope on the engine's wire (`[faults]` and the service's `latency`/`fail` apply); a lost one hangs the caller until its timeout (`TimeoutError`) or for ever |
//! | `if e { } else if e { } else { }`, `while e { }`, `loop { }`, `break`, `continue` | control flow |
//! | `retry n { } [else { }]` | run the block up to n times while it fails; when all fail, run `else` or raise |
//! | `try { } catch [x] { }` | catch a failure (its message in `x`); cancellation is not caught |
//! | `spawn T [-> h]`, `cancel T`/`cancel h`, `join T`/`join h` | start an instance (it runs from the next tick), cancel (CancelledError at its next await), wait for the end |
//! | `assert e "message"` | a false condition is the violation `assert` |
//! | `emit NAME` | count an event, for `count(NAME)` in final checks |
//! | `return [e]`, `fail e` | end the task, or raise |
//!
//! Expressions: integers, `"strings"`, `true`, `false`, `none`, `{}`, locals, `e[k]`,
//! `+ - * / %` (`+` also joins strings and merges maps), `== != < <= > >=`, `and or not`,
//! and `has(map, key)`, `len(x)`, `nones(map)`. Final checks read shared variables by name and
//! `service.var`, and also have `count(event)`, `failed([task])`, `finished([task])`,
//! `cancelled([task])` and `result(task)`.
//!
//! Under `scheduling = "cooperative"` (asyncio, the default) a task runs until it awaits,
//! calls, waits for a lock or a join, or ends; under `"preemptive"` (threads) the scheduler
//! may switch after every step that touches shared state.
//!
//! # Checks
//!
//! A wait-for graph over tasks and locks (`deadlock`: a cycle, or a task waiting for a lock
//! it holds), step assertions (`assert`), a task ending in `fail` (`task_failed`, unless
//! `allow_failures`), a loop that never awaits (`event_loop_blocked`), the `[[final]]`
//! checks at quiescence (each named by its `name`), and the liveness monitor
//! `task_finishes`: every task ends within `finish_within` ticks of heal.

pub mod actions;
pub mod ast;
pub mod compile;
pub mod eval;
pub mod invariants;
pub mod lexer;
pub mod locks;
pub mod parser;
pub mod program;
pub mod runtime;
pub mod source_map;
pub mod spec;
pub mod value;

use crate::engine::Engine;
use crate::engine::Names;
use crate::engine::app::SimApp;
use crate::engine::faults::{LinkRule, LinkRules};
use crate::engine::ids::Id;
use crate::engine::model::{Model, ModelConfig, StepDoc, VariantDoc};
use crate::engine::schedule::{FinishSchedule, FinishStage, SetupSchedule, SetupStage, Stage, TickSchedule, slot};
use crate::engine::script::Act;
use crate::engine::timers::Fired;
use crate::engine::wire::Inbound;
use crate::scenario::{Scenario, ScenarioError};
use actions::{Action, StepSpec};
use bevy_app::App;
use bevy_ecs::prelude::*;
use std::sync::Arc;

/// The model.
pub struct Tasks;

const FIXED_INVARIANTS: &[&str] =
    &[invariants::DEADLOCK, "assert", "task_failed", "event_loop_blocked", invariants::FINISHES];

impl Model for Tasks {
    fn name(&self) -> &'static str {
        "tasks"
    }

    fn about(&self) -> &'static str {
        "async tasks over shared variables and locks, written in the scenario: deadlocks, lost updates, refresh races"
    }

    fn steps(&self) -> &'static [StepDoc] {
        actions::STEPS
    }

    fn sections(&self) -> &'static [&'static str] {
        spec::SECTIONS
    }

    fn variant_docs(&self, scenario: Option<&Scenario>) -> Vec<VariantDoc> {
        // Read leniently: `validate` reports what is wrong with the file.
        let Some(s) = scenario else { return Vec::new() };
        let Some(crate::scenario::Kind::Table(t)) = s.doc.get("variant").map(|v| &v.kind) else {
            return vec![VariantDoc { name: spec::DEFAULT_VARIANT.into(), about: "the programs of the tasks".into() }];
        };
        spec::in_file_order(t)
            .into_iter()
            .map(|(name, _, v)| {
                let about = match &v.kind {
                    crate::scenario::Kind::Table(vt) => match vt.get("about").map(|a| &a.kind) {
                        Some(crate::scenario::Kind::Str(a)) => a.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                VariantDoc { name: name.clone(), about }
            })
            .collect()
    }

    fn invariants(&self, scenario: Option<&Scenario>) -> Vec<String> {
        let mut out: Vec<String> = FIXED_INVARIANTS.iter().map(|s| (*s).to_owned()).collect();
        for section in ["invariant", "final"] {
            let finals = scenario.and_then(|s| s.doc.get(section)).map(|v| &v.kind);
            let Some(crate::scenario::Kind::Array(items)) = finals else { continue };
            for item in items {
                let name = match &item.kind {
                    crate::scenario::Kind::Table(t) => match t.get("name").map(|n| &n.kind) {
                        Some(crate::scenario::Kind::Str(n)) => n.clone(),
                        _ => section.to_owned(),
                    },
                    _ => continue,
                };
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }

    fn configure(&self, scenario: &Scenario) -> Result<ModelConfig, ScenarioError> {
        let spec = spec::Spec::load(scenario)?;
        let mut compiled = Vec::new();
        for v in &spec.variants {
            compiled.push((v.name.clone(), compile::compile(&spec, &v.name, &scenario.source)?));
        }
        Ok(ModelConfig::new(Parsed { spec, compiled }))
    }

    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError> {
        let parsed = scenario.config::<Parsed>();
        let spec = &parsed.spec;
        let mut prog = parsed.compiled.iter().find(|(n, _)| n == variant).map(|(_, p)| p.clone()).ok_or_else(|| {
            ScenarioError::whole_file(&scenario.source.file, format!("unknown variant `{variant}` of model `tasks`"))
        })?;
        let steps: Vec<_> = {
            let mut engine = app.world_mut().resource_mut::<crate::engine::Engine>();
            let names = &mut engine.names;
            prog.intern(names);
            // Intern instance names up front, in declaration order, so that ids (and the
            // order monitors report in) do not depend on which runs came before.
            for t in &prog.tasks {
                for n in 1..=t.copies.max(4) {
                    names.intern(&runtime::instance_name(&t.name, n, t.copies));
                }
            }
            spec.steps.iter().map(|(at, s)| (*at, resolve_step(s, &prog, names))).collect()
        };
        app.add_script(steps);
        app.add_wire::<runtime::Envelope>().add_timers::<runtime::TaskWake>();
        // A service's `latency` and `fail` are settings of the links to and from it: the
        // request may fail in transit (the caller's transport notices), either way takes
        // the service's latency.
        let mut rules = Vec::new();
        for s in &prog.services {
            if s.latency.is_none() && s.fail <= 0.0 {
                continue;
            }
            let delay = s.latency.unwrap_or(scenario.faults.delay);
            rules.push(LinkRule { from: Id::NONE, to: s.named.id, delay, fail: s.fail, lossless: false });
            rules.push(LinkRule { from: s.named.id, to: Id::NONE, delay, fail: 0.0, lossless: false });
        }
        // A queue is a channel inside the client: one tick, never lost or duplicated (a
        // partition naming it still holds it). Network hops are calls to services.
        for (q, _) in &prog.queues {
            rules.push(LinkRule { from: Id::NONE, to: q.id, delay: (1, 1), fail: 0.0, lossless: true });
        }
        app.insert_resource(LinkRules(rules));
        app.insert_resource(runtime::Prog(Arc::new(prog)));
        app.init_resource::<runtime::Sched>();
        app.init_resource::<runtime::Shared>();
        app.add_systems(SetupSchedule, (setup, declare).chain().in_set(SetupStage::Model));
        app.add_systems(TickSchedule, run.in_set(Stage::Model));
        app.add_systems(TickSchedule, invariants::check.in_set(Stage::Check));
        let plan_slot = slot(app, Stage::Plan);
        app.add_systems(TickSchedule, plan.in_set(plan_slot));
        app.add_systems(FinishSchedule, invariants::check_finals.in_set(FinishStage::Check));
        Ok(())
    }
}

/// The scenario as this model reads it: the spec and every variant's compiled program.
struct Parsed {
    spec: spec::Spec,
    compiled: Vec<(String, compile::Compiled)>,
}

/// A step with its names resolved (`Spec::load` checked that they exist).
fn resolve_step(s: &StepSpec, prog: &compile::Compiled, names: &mut Names) -> Action {
    let task = |name: &str| prog.tasks.iter().position(|t| t.name == name).unwrap_or(0) as u16;
    match s {
        StepSpec::Spawn(t) => Action::Spawn { task: task(t), id: names.intern(t) },
        StepSpec::Cancel(t) => Action::Cancel { task: task(t), id: names.intern(t) },
        StepSpec::Write(v, value) => {
            let var = prog.shared.iter().position(|(n, _)| n.name == *v).unwrap_or(0);
            Action::Write { var: var as u16, id: names.intern(v), value: value.clone() }
        }
    }
}

fn setup(mut rt: runtime::Rt) {
    rt.setup();
}

fn declare(prog: Res<runtime::Prog>, mut engine: ResMut<Engine>) {
    engine.monitors.declare(invariants::FINISHES, prog.0.options.finish_within);
}

fn run(
    mut rt: runtime::Rt,
    mut acts: MessageReader<Act<Action>>,
    mut fired: MessageReader<Fired<runtime::TaskWake>>,
    mut inbound: MessageReader<Inbound<runtime::Envelope>>,
) {
    let acts: Vec<Action> = acts.read().map(|a| a.action.clone()).collect();
    let fired: Vec<runtime::TaskWake> = fired.read().map(|f| f.0.clone()).collect();
    let inbound: Vec<Inbound<runtime::Envelope>> = inbound.read().cloned().collect();
    rt.step_once(fired.into_iter(), inbound.into_iter(), acts.into_iter());
}

fn plan(sched: Res<runtime::Sched>, mut engine: ResMut<Engine>) {
    if sched.busy() {
        let now = engine.clock.now;
        engine.horizon.at(now + 1);
    }
}
