//! A simulation: one scenario and variant, built once, run for any number of seeds or tapes.
//!
//! The schedules are built once and the world is reset between runs (entities cleared,
//! resources put back), which is what makes sweeping many seeds cheap.

use crate::engine::agenda::HandOver;
use crate::engine::check::Verdict;
use crate::engine::clock::{Clock, DueSource, DueSources};
use crate::engine::faults::{Cuts, FaultPlan};
use crate::engine::ids::Names;
use crate::engine::model::Model;
use crate::engine::schedule::{FinishSchedule, Resets, SetupSchedule, StepFn, StepStarts, TickSchedule};
use crate::engine::spec::{Scenario, ScenarioError};
use crate::engine::state::Engine;
use crate::engine::stats::Stats;
use crate::engine::tape::{Choice, ReplayMode, Tape};
use crate::engine::trace::{Trace, TraceLevel};
use crate::engine::turnover::{MessageUpdates, UpdateFn};
use crate::engine::{EnginePlugin, Limits};
use bevy_app::App;
use bevy_ecs::prelude::*;
use bevy_ecs::resource::IsResource;
use bevy_ecs::schedule::ScheduleLabel;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Scenario name.
    pub scenario: String,
    /// Variant.
    pub variant: String,
    /// Seed (for a replayed tape: the seed it was recorded with, if known).
    pub seed: u64,
    /// How it ended: the first invariant or monitor it broke, else pass, a limit, or a
    /// replay that diverged.
    pub verdict: Verdict,
    /// Every distinct invariant and monitor the run broke, with the first tick and detail of
    /// each, in the order they broke.
    #[serde(default)]
    pub violations: Vec<Verdict>,
    /// The limit that ended the run, when one did (also when the verdict is a violation that
    /// came before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<String>,
    /// The last tick simulated.
    pub ticks: u64,
    /// Messages that entered the wire.
    pub messages: u64,
    /// Hash of the trace, as 16 hex digits.
    pub trace_hash: String,
    /// Engine and model counters. A run's are named by `&'static str`s, borrowed rather than
    /// copied: an outcome read back from JSON owns its names.
    pub metrics: BTreeMap<Cow<'static, str>, u64>,
}

impl Outcome {
    /// The name of every check the run failed: each invariant and monitor it broke, or else
    /// the limit that halted it or `diverged`. Empty for a pass.
    pub fn checks(&self) -> Vec<&str> {
        if self.violations.is_empty() {
            self.verdict.failed_check().into_iter().collect()
        } else {
            self.violations.iter().filter_map(Verdict::failed_check).collect()
        }
    }
}

enum BuildError {
    Scenario(ScenarioError),
    Schedule(String),
}

/// A simulation of one scenario and variant.
pub struct Sim {
    app: App,
    scenario: String,
    variant: String,
    level: TraceLevel,
    record: bool,
    /// Names interned while building; later ones are forgotten at the start of each run.
    base_names: usize,
    /// Whether to look for resources a run changed that nothing reset (see [`Sim::audit_resets`]).
    audit: bool,
    unreset: Vec<String>,
    /// The message buffers' turn-over functions (with each tracked type's slot) and the due
    /// sources, copied out of their registries once: the run loop calls them on every step
    /// without a resource look-up.
    updates: Vec<(UpdateFn, Option<usize>)>,
    /// Which tracked message types turn over before the next step.
    turn: Vec<bool>,
    due: Vec<DueSource>,
    /// The due sources' answers after a step (`None`: not asked).
    answers: Vec<Option<Option<u64>>>,
    /// What starts a step (scripts acting), copied out of its registry once, with each one's
    /// slot on the due board.
    starts: Vec<(StepFn, Option<usize>)>,
    /// Which of `starts` has work on the next step (read off the due board after a step).
    starts_due: Vec<bool>,
    /// The agenda's scratch for handing over (each source's ready list, the batch's slots).
    hand_over: HandOver,
    /// Every entity that is not a resource: kept, so that a run does not build the query
    /// (and match every archetype) again; with scratch for the ones a run's reset despawns.
    entities: QueryState<Entity, Without<IsResource>>,
    doomed: Vec<Entity>,
}

impl Sim {
    /// Build the simulation of `scenario`'s `variant`, with the model the scenario was
    /// resolved to when it was parsed.
    pub fn new(scenario: &Scenario, variant: &str) -> Result<Sim, ScenarioError> {
        Sim::with_model(scenario.model_impl(), scenario, variant)
    }

    /// Build the simulation with an explicit model.
    pub fn with_model(model: &dyn Model, scenario: &Scenario, variant: &str) -> Result<Sim, ScenarioError> {
        if !model.variants(scenario).iter().any(|v| v == variant) {
            return Err(ScenarioError::whole_file(
                &scenario.source.file,
                format!("unknown variant `{variant}`; expected one of: {}", model.variants(scenario).join(", ")),
            ));
        }
        let limits = Limits { max_ticks: scenario.max_ticks, max_messages: scenario.max_messages };
        Sim::assemble(&scenario.name, variant, scenario.faults.clone(), limits, |app| {
            model.install(app, scenario, variant)
        })
        .map_err(|e| match e {
            BuildError::Scenario(e) => e,
            BuildError::Schedule(msg) => {
                ScenarioError::whole_file(&scenario.source.file, format!("schedule error: {msg}"))
            }
        })
    }

    /// Build a simulation from plugins written in Rust, without a scenario file: `build`
    /// adds wires, timers and systems to an app that already has the engine.
    pub fn custom(name: &str, faults: FaultPlan, limits: Limits, build: impl FnOnce(&mut App)) -> Result<Sim, String> {
        Sim::assemble(name, "custom", faults, limits, |app| {
            build(app);
            Ok(())
        })
        .map_err(|e| match e {
            BuildError::Scenario(e) => e.to_string(),
            BuildError::Schedule(msg) => format!("schedule error: {msg}"),
        })
    }

    fn assemble(
        name: &str,
        variant: &str,
        faults: FaultPlan,
        limits: Limits,
        install: impl FnOnce(&mut App) -> Result<(), ScenarioError>,
    ) -> Result<Sim, BuildError> {
        let mut app = App::empty();
        app.add_plugins(EnginePlugin);
        {
            let mut engine = app.world_mut().resource_mut::<Engine>();
            engine.plan = faults;
            engine.limits = limits;
        }
        install(&mut app).map_err(BuildError::Scenario)?;
        // Build the schedules now, so that a scheduling error (an ambiguity) shows at once.
        for label in [TickSchedule.intern(), SetupSchedule.intern(), FinishSchedule.intern()] {
            app.world_mut()
                .schedule_scope(label, |world, s| match s.initialize(world) {
                    Ok(_) => Ok(()),
                    Err(e) => Err(e.to_string(s.graph(), world)),
                })
                .map_err(BuildError::Schedule)?;
        }
        let base_names = app.world().resource::<Engine>().names.len();
        let updates = app.world().resource::<MessageUpdates>().list();
        let turn = vec![false; app.world().resource::<Engine>().turnover.len()];
        let due = app.world().resource::<DueSources>().0.clone();
        let starts = app.world().resource::<StepStarts>().0.clone();
        let entities = app.world_mut().query_filtered::<Entity, Without<IsResource>>();
        let hand_over = app.world().resource::<Engine>().agenda.hand_over_scratch();
        Ok(Sim {
            app,
            scenario: name.to_owned(),
            variant: variant.to_owned(),
            level: TraceLevel::Hash,
            record: true,
            base_names,
            audit: false,
            unreset: Vec::new(),
            updates,
            turn,
            answers: vec![None; due.len()],
            starts_due: vec![true; starts.len()],
            starts,
            hand_over,
            due,
            entities,
            doomed: Vec::new(),
        })
    }

    /// How much trace to keep from now on (default: the hash only).
    pub fn trace_level(&mut self, level: TraceLevel) -> &mut Self {
        self.level = level;
        self
    }

    /// Stop each run at the tick of its first broken invariant (default: no, a run goes on
    /// to quiescence or a limit and reports every invariant it breaks).
    pub fn stop_at_first(&mut self, on: bool) -> &mut Self {
        self.app.world_mut().resource_mut::<Engine>().status.stop_at_first = on;
        self
    }

    /// Whether to keep the list of choices (default: yes; sweeps turn it off).
    pub fn record_tape(&mut self, on: bool) -> &mut Self {
        self.record = on;
        self
    }

    /// Run with the random strategy seeded by `seed`.
    pub fn seed(&mut self, seed: u64) -> Outcome {
        self.run(Tape::seeded(seed), seed)
    }

    /// Replay `choices` strictly: stop with [`Verdict::Diverged`] at the first mismatch.
    pub fn tape(&mut self, choices: Vec<Choice>) -> Outcome {
        self.run(Tape::replay(choices, ReplayMode::Strict), 0)
    }

    /// Run with any tape; `seed` is reported in the outcome.
    pub fn run(&mut self, mut tape: Tape, seed: u64) -> Outcome {
        tape.set_recording(self.record);
        let audit = self.audit;
        let replaying = tape.is_replay();
        let Sim { app, updates, due, turn, answers, starts, starts_due, hand_over, entities, doomed, .. } = self;
        turn.fill(false);
        let world = app.world_mut();
        let run_start = world.increment_change_tick();
        // Resources live on entities too: despawn every entity that is not one.
        doomed.clear();
        doomed.extend(entities.iter(world));
        for e in doomed.drain(..) {
            world.despawn(e);
        }
        {
            // What the engine's own resets did when these were resources of their own: first,
            // before any model's reset can spawn an entity with an id.
            let mut engine = world.resource_mut::<Engine>();
            engine.index.clear();
            engine.agenda.reset();
        }
        let resets = std::mem::take(&mut world.resource_mut::<Resets>().0);
        for reset in &resets {
            reset(world);
        }
        world.resource_mut::<Resets>().0 = resets;
        {
            let mut engine = world.resource_mut::<Engine>();
            let e = &mut *engine;
            e.names.truncate(self.base_names);
            tape.reuse_buffer(&mut e.tape);
            e.tape = tape;
            e.trace.reset(self.level);
            e.clock = Clock::default();
            e.horizon.clear();
            e.due.clear();
            e.turnover.clear();
            e.status.reset();
            e.stats = Stats::default();
            e.metrics.0.clear();
            e.monitors.reset();
            e.cuts = Cuts::resolve(&e.plan, &mut e.names);
        }
        world.run_schedule(SetupSchedule);
        let setup_done = world.increment_change_tick();
        let touched = if audit { resources_changed_since(world, run_start, setup_done) } else { Vec::new() };

        let max_ticks = {
            // What setup asked of the horizon is not a tick's: each step starts with none.
            let mut engine = world.resource_mut::<Engine>();
            engine.horizon.clear();
            starts_due_at(&engine, 0, starts, starts_due);
            crate::engine::check::refresh_overdue(&engine);
            engine.limits.max_ticks
        };
        let mut visited = 0u64;
        let mut now = 0;
        // Take the tick schedule out once per run, not once per tick.
        let end = world.schedule_scope(TickSchedule, |world, tick| {
            loop {
                // A message written on one step is read on that step or the next (a model's
                // type turns over on every step, an engine type only after a write: see
                // `turnover`).
                for &(update, slot) in updates.iter() {
                    if slot.is_none_or(|s| turn[s]) {
                        update(world);
                    }
                }
                // The Act and Deliver stages' engine work, without the executor.
                for (&(start, _), &due) in starts.iter().zip(starts_due.iter()) {
                    if due {
                        start(world, now);
                    }
                }
                crate::engine::agenda::deliver(world, hand_over);
                tick.run(world);
                // Sources a model can change behind the engine's back (timers) settle and answer now,
                // if the step touched them; the rest keep their slots on the due board up to date
                // themselves.
                for (answer, (source, _, touched)) in answers.iter_mut().zip(due.iter()) {
                    // A load and a store, not a swap: the flag never leaves this thread, and a
                    // swap is a locked instruction on every step.
                    let ask = touched.as_ref().is_none_or(|t| t.load(Ordering::Relaxed));
                    if let Some(t) = touched.as_ref().filter(|_| ask) {
                        t.store(false, Ordering::Relaxed);
                    }
                    *answer = ask.then(|| source(world));
                }
                let mut engine = world.resource_mut::<Engine>();
                for (answer, &(_, slot, _)) in answers.iter().zip(due.iter()) {
                    if let Some(answer) = *answer {
                        engine.due.set(slot, answer);
                    }
                }
                // What models asked for during this step; the next step starts with none.
                let asked = std::mem::take(&mut engine.horizon).next();
                engine.turnover.plan(turn);
                let last_step = engine.agenda.is_last_step();
                if last_step {
                    visited += 1;
                }
                if replaying && let Some(d) = engine.tape.divergence() {
                    break Verdict::Diverged { detail: d.to_string() };
                }
                if engine.trace.flooded() {
                    engine.status.halt("max_events_per_tick");
                }
                if engine.status.stop() {
                    break match engine.status.halt {
                        Some(limit) => Verdict::Halted { limit: limit.into() },
                        None => Verdict::Pass,
                    };
                }
                if !last_step {
                    // More batches are due on this tick: the next step hands over the next.
                    starts_due_at(&engine, now, starts, starts_due);
                    crate::engine::check::refresh_overdue(&engine);
                    continue;
                }
                let next =
                    [asked, engine.due.next(), crate::engine::check::monitors_due(&engine)].into_iter().flatten().min();
                match next {
                    None => {
                        world.run_schedule(FinishSchedule);
                        if let Some(d) = world.resource::<Engine>().tape.divergence() {
                            break Verdict::Diverged { detail: d.to_string() };
                        }
                        break Verdict::Pass;
                    }
                    Some(next) => {
                        let next = next.max(now + 1);
                        if next > max_ticks {
                            break Verdict::Halted { limit: "max_ticks".into() };
                        }
                        engine.clock.now = next;
                        now = next;
                        starts_due_at(&engine, now, starts, starts_due);
                        crate::engine::check::refresh_overdue(&engine);
                    }
                }
            }
        });
        // The first break is the verdict; a replay that diverged says so whatever it broke.
        let violations = std::mem::take(&mut world.resource_mut::<Engine>().status.broken);
        let halted = match &end {
            Verdict::Halted { limit } => Some(limit.clone()),
            _ => None,
        };
        let leftover = world.resource::<Engine>().tape.leftover();
        let end = match end {
            // The run is over but the tape is not: the tape is not this run's.
            Verdict::Diverged { .. } => end,
            _ if leftover > 0 => Verdict::Diverged {
                detail: format!("replay diverged: the run ended with {leftover} tape choices never asked for"),
            },
            end => end,
        };
        let verdict = match (end, violations.first()) {
            (d @ Verdict::Diverged { .. }, _) => d,
            (_, Some(first)) => first.clone(),
            (end, None) => end,
        };
        if audit {
            let now = world.increment_change_tick();
            let world = &*world;
            for (id, name) in resources_changed_since(world, setup_done, now) {
                if !touched.iter().any(|(t, _)| *t == id)
                    && !IGNORED.iter().any(|i| name.ends_with(i))
                    && !self.unreset.contains(&name)
                {
                    self.unreset.push(name);
                }
            }
        }
        let engine = world.resource::<Engine>();
        let stats = engine.stats;
        let mut metrics: BTreeMap<Cow<'static, str>, u64> =
            engine.metrics.0.iter().map(|(&k, &v)| (Cow::Borrowed(k), v)).collect();
        for (k, v) in [
            ("wire.delivered", stats.delivered),
            ("wire.dropped", stats.dropped),
            ("wire.duplicated", stats.duplicated),
            ("wire.held", stats.held),
        ] {
            metrics.insert(Cow::Borrowed(k), v);
        }
        metrics.insert(Cow::Borrowed("tape.choices"), engine.tape.len() as u64);
        metrics.insert(Cow::Borrowed("sim.ticks_visited"), visited);
        Outcome {
            scenario: self.scenario.clone(),
            variant: self.variant.clone(),
            seed,
            verdict,
            violations,
            halted,
            ticks: engine.clock.now,
            messages: stats.messages,
            trace_hash: format!("{:016x}", engine.trace.hash()),
            metrics,
        }
    }

    /// Check that every seed in `seeds` runs the same on a reused simulation of `scenario`'s
    /// `variant` as on a fresh one, and that no run leaves state that nothing resets
    /// (see [`crate::engine::determinism::check`]). Returns the number of seeds checked.
    pub fn check_determinism(
        scenario: &Scenario,
        variant: &str,
        seeds: std::ops::Range<u64>,
    ) -> Result<u64, crate::engine::determinism::Nondeterminism> {
        crate::engine::determinism::check(|| Sim::new(scenario, variant), seeds)
    }

    /// Look for model state that leaks from one run into the next: a resource that a run
    /// changes although neither a reset nor a setup system touched it at the start of the
    /// run. What is found is listed by [`Sim::unreset_resources`]. Off by default (it costs a
    /// scan of the resources per run); [`crate::engine::determinism::check`] turns it on.
    pub fn audit_resets(&mut self, on: bool) -> &mut Self {
        self.audit = on;
        self
    }

    /// Resources found by [`Sim::audit_resets`] (type names), in the order found.
    pub fn unreset_resources(&self) -> &[String] {
        &self.unreset
    }

    /// The trace of the last run.
    pub fn trace(&self) -> &Trace {
        &self.app.world().resource::<Engine>().trace
    }

    /// The id names (to print the trace).
    pub fn names(&self) -> &Names {
        &self.app.world().resource::<Engine>().names
    }

    /// The choices of the last run (empty if recording was off).
    pub fn choices(&self) -> &[Choice] {
        self.app.world().resource::<Engine>().tape.choices()
    }

    /// The world, to inspect a model's state after a run.
    pub fn world(&self) -> &World {
        self.app.world()
    }

    /// The variant simulated.
    pub fn variant(&self) -> &str {
        &self.variant
    }
}

/// Engine resources that change during a run by design and need no reset.
const IGNORED: &[&str] = &["Schedules", "MessageUpdates"];

/// Resources whose value changed after `since` (up to `now`), with their type names.
fn resources_changed_since(
    world: &World,
    since: bevy_ecs::change_detection::Tick,
    now: bevy_ecs::change_detection::Tick,
) -> Vec<(bevy_ecs::component::ComponentId, String)> {
    let ids: Vec<_> = world.iter_resources().map(|(id, info, _)| (id, info.name().to_string())).collect();
    ids.into_iter()
        .filter(|(id, _)| world.get_resource_change_ticks_by_id(*id).is_some_and(|t| t.is_changed(since, now)))
        .collect()
}

/// Which step starts have work at `now`, by their slots on the due board (a start's slot
/// changes only when it runs, so the board read after a step holds for the next).
fn starts_due_at(engine: &Engine, now: u64, starts: &[(StepFn, Option<usize>)], due: &mut [bool]) {
    for (&(_, slot), d) in starts.iter().zip(due.iter_mut()) {
        *d = slot.is_none_or(|s| engine.due.get(s).is_some_and(|t| t <= now));
    }
}
