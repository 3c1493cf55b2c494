//! The SSE proxy's EventTracker (seeds 001 and 003): de-duplication in a bounded window,
//! Last-Event-ID resume, a bounded persistence channel with backpressure, and the worker
//! that writes each session's `last_event_id` to a store.
//!
//! Per session: an SSE [`server`] emitting events with increasing ids, a [`proxy`] whose
//! [`tracker`] runs the seed's `record_event`, and the [`consumer`] application. Shared:
//! the persistence [`channel`] (a real `crossbeam_channel::bounded`), the [`worker`] and the
//! [`store`]. The variants change how the tracker hands ids to the channel (the three send
//! paths the seeds write, each cited in [`proxy`]: seed 003's `try_send`, the timed `send` of
//! seed 001's Option 1 and seed 003's async callback, and the caller's untimed
//! `send().await?` of seed 001's Option 2) and which worker runs; the window implementation
//! is a separate switch (`[sse] window`). A reconnect with `overlap = true` lets the old
//! stream's task record through the same tracker as the new one, split at the lock boundary
//! of `record_event` ([`tracker::EventTracker::check`] and [`tracker::EventTracker::push`]).

pub mod actions;
pub mod channel;
pub mod config;
pub mod consumer;
pub mod env;
pub mod invariants;
pub mod messages;
pub mod metrics;
pub mod proxy;
pub mod server;
pub mod session;
pub mod store;
pub mod systems;
pub mod tracker;
pub mod window;
pub mod worker;

use crate::engine::agenda::last_step;
use crate::engine::app::SimApp;
use crate::engine::model::{Model, ModelConfig, StepDoc, VariantDoc, Variants};
use crate::engine::schedule::{SetupSchedule, SetupStage, Stage, TickSchedule, slot};
use crate::scenario::{At, Scenario, ScenarioError};
use actions::{SessionIds, SseAction, StepSpec};
use bevy_app::{App, Plugin};
use bevy_ecs::prelude::*;
use config::SseConfig;
use messages::{Connect, Frame};
use proxy::SendMode;
use session::{Actors, Roster, Sessions};
use systems::Design;
use worker::WorkerKind;

/// The model, as registered in `crate::models`.
pub struct Sse;

/// The variants, faithful to the seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Seed 003's synchronous callback: `try_send`, a full channel drops the request; the
    /// worker before E.1.
    TrySendDrop,
    /// Seed 003's async callback (E.0): `send` under a 100-tick timeout, the tracker blocked
    /// meanwhile; the worker before E.1.
    SendTimeout,
    /// `send` under the timeout, and a worker that retries failed writes without regard
    /// to newer ones.
    NaiveRetryWorker,
    /// Seed 001's recommended design: the tracker owns the sender (`send` under the
    /// timeout) and the E.1 worker batches, coalesces and retries from a heap.
    CoalescingWorker,
    /// Seed 001's Option 2: `record_event` returns the new id and the caller awaits
    /// `persistence_tx.send(req).await?` (no timeout); the E.1 worker.
    CallerSend,
}

/// The variants, by name, each with what it models.
pub const VARIANTS: Variants<Variant> = Variants::new(
    "sse",
    &[
        (
            Variant::TrySendDrop,
            "try_send_drop",
            "seed 003's sync callback: try_send, a full or closed channel drops the request (the seeds show no code, and no counter, for it); worker before E.1: one request, one write, no retry",
        ),
        (
            Variant::SendTimeout,
            "send_timeout",
            "seed 003's async callback (E.0): send under a timeout of send_timeout ticks, the stream blocked meanwhile; worker before E.1",
        ),
        (
            Variant::NaiveRetryWorker,
            "naive_retry_worker",
            "send under the timeout; the worker retries failed writes after a backoff while writing newer requests meanwhile",
        ),
        (
            Variant::CoalescingWorker,
            "coalescing_worker",
            "seed 001's tracker owning the sender (send under the timeout) and the E.1 worker: recv_many, coalesce per session to the newest id, retry heap with exponential backoff, never an older id over a newer one",
        ),
        (
            Variant::CallerSend,
            "caller_send",
            "seed 001's Option 2: record_event returns the id and the caller awaits persistence_tx.send(req).await? with no timeout (no drop, an unbounded wait; a closed channel ends the stream); the E.1 worker",
        ),
    ],
);

impl Variant {
    /// Its send and worker.
    pub fn design(self) -> Design {
        match self {
            Variant::TrySendDrop => Design { send: SendMode::TrySend, worker: WorkerKind::Plain },
            Variant::SendTimeout => Design { send: SendMode::SendTimeout, worker: WorkerKind::Plain },
            Variant::NaiveRetryWorker => Design { send: SendMode::SendTimeout, worker: WorkerKind::NaiveRetry },
            Variant::CoalescingWorker => Design { send: SendMode::SendTimeout, worker: WorkerKind::Coalescing },
            Variant::CallerSend => Design { send: SendMode::SendAwait, worker: WorkerKind::Coalescing },
        }
    }
}

impl Model for Sse {
    fn name(&self) -> &'static str {
        "sse"
    }

    fn about(&self) -> &'static str {
        "SSE proxy EventTracker: dedup window, Last-Event-ID resume, bounded persistence channel, retrying worker (seeds 001, 003)"
    }

    fn steps(&self) -> &'static [StepDoc] {
        actions::STEPS
    }

    fn sections(&self) -> &'static [&'static str] {
        &["sse"]
    }

    fn variant_docs(&self, _scenario: Option<&Scenario>) -> Vec<VariantDoc> {
        VARIANTS.docs()
    }

    fn invariants(&self, _scenario: Option<&Scenario>) -> Vec<String> {
        invariants::ALL.iter().map(|s| (*s).to_owned()).collect()
    }

    fn configure(&self, scenario: &Scenario) -> Result<ModelConfig, ScenarioError> {
        Ok(ModelConfig::new((SseConfig::parse(scenario)?, actions::parse_steps(scenario)?)))
    }

    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError> {
        let variant = VARIANTS.parse(scenario, variant)?;
        let (cfg, specs) = scenario.config::<(SseConfig, Vec<(At, StepSpec)>)>().clone();
        // Intern every name now, in file order, so that ids (and the order of anything kept
        // by id) are the same in every run of this simulation.
        let (roster, actors, steps) = {
            let mut engine = app.world_mut().resource_mut::<crate::engine::Engine>();
            let names = &mut engine.names;
            let actors = Actors { store: names.intern("store"), worker: names.intern("worker") };
            let roster: Vec<SessionIds> = specs
                .iter()
                .filter_map(|(_, s)| match s {
                    StepSpec::Start(name) => Some(SessionIds::intern(names, name)),
                    _ => None,
                })
                .collect();
            let steps: Vec<_> =
                specs.iter().map(|(at, s)| (*at, SseAction::resolve(s, names, actors.store, actors.worker))).collect();
            (roster, actors, steps)
        };
        app.add_plugins(SsePlugin { cfg, design: variant.design(), roster: Roster(roster), actors, steps });
        Ok(())
    }
}

/// The model's plugin, configured for one scenario and variant.
pub struct SsePlugin {
    cfg: SseConfig,
    design: Design,
    roster: Roster,
    actors: Actors,
    steps: Vec<(At, SseAction)>,
}

impl Plugin for SsePlugin {
    fn build(&self, app: &mut App) {
        app.add_script(self.steps.clone()).add_wire::<Connect>().add_wire::<Frame>();
        app.insert_resource(self.cfg.clone());
        app.insert_resource(self.design);
        app.insert_resource(self.roster.clone());
        app.insert_resource(self.actors);
        app.init_resource::<Sessions>();
        app.insert_resource(channel::PersistenceChannel::new(self.cfg.capacity));
        app.init_resource::<store::Store>();
        app.insert_resource(worker::Worker::new(self.design.worker, self.actors.worker));
        app.init_resource::<invariants::Findings>();
        app.add_systems(SetupSchedule, systems::setup.in_set(SetupStage::Model));
        app.add_systems(
            TickSchedule,
            (
                systems::on_act,
                systems::servers,
                systems::servers_emit.run_if(last_step),
                systems::store_complete.run_if(last_step),
                systems::worker_step.run_if(last_step),
                systems::proxies,
                systems::proxies_process.run_if(last_step),
            )
                .chain()
                .in_set(Stage::Model),
        );
        app.add_systems(
            TickSchedule,
            (invariants::report_findings, invariants::check_metrics, invariants::update_monitors)
                .chain()
                .in_set(Stage::Check),
        );
        // After the wires' and script's planners, which touch the horizon too.
        let plan_slot = slot(app, Stage::Plan);
        app.add_systems(TickSchedule, systems::plan.in_set(plan_slot));
    }
}
