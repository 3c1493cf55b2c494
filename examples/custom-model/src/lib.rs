//! A model written outside racelab: a reconnecting WebSocket client whose old socket's
//! close callback races a new `connect()`.
//!
//! `reconnect()` closes the current socket and, after a backoff, calls `connect()`, which
//! makes a new socket current at once. The old socket's close completes asynchronously (a
//! closing handshake with the server over the engine's wire), and its `onclose` callback
//! runs `this.socket = null; this.connected = false`. When the handshake takes longer than
//! the backoff, that callback clears the *new* socket: the new connection is open but the
//! client holds no socket and tells the app it is disconnected, for good.
//!
//! The crate depends on racelab alone. [`Sockets`] implements [`Model`]; the binary
//! registers it with `racelab::cli::main(Registry::builtin().with(Sockets))` and gets every
//! command of racelab's command line for it. `docs/models.md` in racelab's repository walks
//! through this crate step by step.
#![warn(missing_docs)]

pub mod components;
pub mod config;
pub mod invariants;
pub mod messages;
pub mod systems;
pub mod variant;

use components::{Cast, ServerLog};
use config::{Config, Params, StepSpec};
use messages::{Action, Backoff, Call, Frame};
use racelab::prelude::*;
use variant::{Fix, VARIANTS, Variant};

/// The model, as the registry knows it: `model = "sockets"` in a scenario file.
pub struct Sockets;

impl Model for Sockets {
    fn name(&self) -> &'static str {
        "sockets"
    }

    fn about(&self) -> &'static str {
        "a reconnecting WebSocket client whose old socket's close callback races a new connect() \
         (a worked example of a model outside racelab)"
    }

    fn steps(&self) -> &'static [StepDoc] {
        config::STEPS
    }

    fn sections(&self) -> &'static [&'static str] {
        &["sockets"]
    }

    fn variant_docs(&self, _scenario: Option<&Scenario>) -> Vec<VariantDoc> {
        VARIANTS.docs()
    }

    fn invariants(&self, _scenario: Option<&Scenario>) -> Vec<String> {
        invariants::ALL.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Runs once, when the file is parsed: every error in the model's own fields is found
    /// here, located in the file, before anything runs.
    fn configure(&self, scenario: &Scenario) -> Result<ModelConfig, ScenarioError> {
        Ok(ModelConfig::new(Config::parse(scenario)?))
    }

    /// Runs once per simulation built, which then runs seed after seed: reads the
    /// configuration back, names the fixed actors, adds the plugin.
    fn install(&self, app: &mut App, scenario: &Scenario, variant: &str) -> Result<(), ScenarioError> {
        let variant = VARIANTS.parse(scenario, variant)?;
        let config = scenario.config::<Config>();
        // Intern every fixed name now, in file order, so that ids are the same in every run;
        // names a run interns later (each new socket) are forgotten before the next run.
        let cast = Cast { app: app.intern("app"), client: app.intern("client"), server: app.intern("server") };
        let mut steps = Vec::new();
        for (at, spec) in &config.steps {
            let call = match spec {
                StepSpec::Connect => Call::Connect,
                StepSpec::Reconnect => Call::Reconnect,
                StepSpec::Send(message) => Call::Send(app.intern(&format!("msg:{message}"))),
            };
            steps.push((*at, Action { app: cast.app, client: cast.client, call }));
        }
        app.add_plugins(SocketsPlugin { variant, params: config.params, cast, steps });
        Ok(())
    }
}

/// The model's plugin, configured for one scenario and variant.
pub struct SocketsPlugin {
    variant: Variant,
    params: Params,
    cast: Cast,
    steps: Vec<(At, Action)>,
}

impl Plugin for SocketsPlugin {
    fn build(&self, app: &mut App) {
        // The engine's building blocks: scripted steps as `Act<Action>`, a faulty wire for
        // frames, and timers for the reconnect's backoff. The engine resets all three.
        app.add_script(self.steps.clone()).add_wire::<Frame>().add_timers::<Backoff>();
        // Constants: no run changes them, so they need no reset.
        app.insert_resource(Fix(self.variant)).insert_resource(self.params).insert_resource(self.cast);
        // State a run changes: the engine puts a fresh value back before every run.
        app.init_sim_resource::<ServerLog>();

        app.declare_monitor(invariants::RECONNECT_COMPLETES, self.params.settle_deadline);

        app.add_setup(systems::spawn_client);
        app.add_model_systems(
            (
                systems::app_calls,
                systems::backoff_fired,
                systems::server,
                systems::socket_events,
                // Per-tick work, not a reaction to one event: once, after the tick's last step.
                systems::flush.run_if(last_step),
            )
                .chain(),
        );
        app.add_checks((invariants::client_not_orphaned, invariants::reconnect_completes).chain());
        app.add_finish_checks(invariants::no_message_lost);
    }
}
