//! The adapters model: callbacks lost through `Clone` (seed 000), and the audit's event-bus,
//! EventSub, connection-health, reconnection and registry items 6 to 9, 14 and 15 (seed 002).
//!
//! Adapters point at callback registries; the auth manager publishes auth events through the
//! event bus to the base adapters, which run the callbacks of their registries; the feature
//! manager's callback drives the reactive chain (EventSub session, a subscription per joined
//! channel, features active) against an API with a subscription quota. Beside it, the chat
//! connection with its health monitor, the coordinator's health validation that reads the
//! chat stream, reconnects with backoff, and the per-channel lock and breaker registries.

pub mod actions;
pub mod actors;
pub mod callbacks;
pub mod channel_registries;
pub mod chat;
pub mod config;
pub mod eventsub;
pub mod helix;
pub mod invariants;
pub mod irc;
pub mod messages;
pub mod reconnect;
pub mod variant;

use crate::engine::Engine;
use crate::engine::app::SimApp;
use crate::engine::ids::Names;
use crate::engine::model::{Model, ModelConfig, StepDoc, VariantDoc};
use crate::engine::schedule::{FinishSchedule, FinishStage, SetupSchedule, SetupStage, Stage, TickSchedule, slot};
use crate::scenario::{At, Scenario, ScenarioError};
use actions::Action;
use actors::Actors;
use bevy_app::{App, Plugin};
use bevy_ecs::prelude::*;
use config::Config;
use messages::{Api, BusMsg, ChatTimer, Irc};

/// The model, as the registry knows it.
pub struct Adapters;

impl Model for Adapters {
    fn name(&self) -> &'static str {
        "adapters"
    }

    fn about(&self) -> &'static str {
        "callbacks lost through Clone, the event bus and its reactive chain, EventSub subscriptions, \
         connection health and reconnection (seeds 000, 002)"
    }

    fn steps(&self) -> &'static [StepDoc] {
        actions::STEPS
    }

    fn sections(&self) -> &'static [&'static str] {
        &["adapters"]
    }

    fn variant_docs(&self, _scenario: Option<&Scenario>) -> Vec<VariantDoc> {
        variant::docs()
    }

    fn invariants(&self, _scenario: Option<&Scenario>) -> Vec<String> {
        invariants::NAMES.iter().map(|s| (*s).to_owned()).collect()
    }

    fn configure(&self, scenario: &Scenario) -> Result<ModelConfig, ScenarioError> {
        let config = Config::parse(scenario)?;
        let mut names = Names::default();
        let steps = actions::parse(scenario, &mut names)?;
        Ok(ModelConfig::new(Parsed { config, steps, names }))
    }

    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError> {
        let switches = variant::VARIANTS.parse(scenario, variant)?;
        let Parsed { config, steps, mut names } = scenario.config::<Parsed>().clone();
        // Step ids were interned in file order while configuring; the actors come after them.
        let actors = Actors::intern(&mut names);
        app.world_mut().resource_mut::<Engine>().names = names;
        app.insert_resource(switches).insert_resource(config).insert_resource(actors);
        app.add_plugins(AdaptersPlugin { steps });
        Ok(())
    }
}

/// The scenario as this model reads it, parsed once.
#[derive(Clone, Debug)]
struct Parsed {
    config: Config,
    steps: Vec<(At, Action)>,
    names: Names,
}

/// The model's plugin: its script, wires, timers, state and systems.
pub struct AdaptersPlugin {
    steps: Vec<(At, Action)>,
}

impl Plugin for AdaptersPlugin {
    fn build(&self, app: &mut App) {
        app.add_script(self.steps.clone())
            .add_wire::<BusMsg>()
            .add_wire::<Api>()
            .add_wire::<Irc>()
            .add_timers::<ChatTimer>();
        app.init_resource::<callbacks::Directory>()
            .init_resource::<callbacks::AuthManager>()
            .init_resource::<callbacks::EventLedger>()
            .init_resource::<eventsub::Client>()
            .init_resource::<channel_registries::ChannelRegistries>()
            .init_resource::<helix::Helix>()
            .init_resource::<chat::Chat>()
            .init_resource::<irc::IrcServer>();
        app.add_systems(
            SetupSchedule,
            (callbacks::setup, eventsub::setup, helix::setup, irc::setup, chat::setup, invariants::declare)
                .chain()
                .in_set(SetupStage::Model),
        );
        app.add_systems(
            TickSchedule,
            (
                callbacks::act,
                callbacks::apply_registrations,
                callbacks::deliver,
                eventsub::act,
                helix::serve,
                eventsub::react,
                irc::serve,
                chat::run,
            )
                .chain()
                .in_set(Stage::Model),
        );
        app.add_systems(
            TickSchedule,
            (
                invariants::check_events,
                invariants::check_messages,
                invariants::check_stale,
                invariants::check_reconnect,
                invariants::monitor_chain,
            )
                .chain()
                .in_set(Stage::Check),
        );
        let plan = slot(app, Stage::Plan);
        app.add_systems(TickSchedule, invariants::plan_stale.in_set(plan));
        app.add_systems(
            FinishSchedule,
            (invariants::finish_events, invariants::finish_zombies, invariants::finish_registries)
                .chain()
                .in_set(FinishStage::Check),
        );
    }
}
