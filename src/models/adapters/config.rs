//! The model's own scenario section, `[adapters]`: quota, periods and limits.

use crate::scenario::{At, Scenario, ScenarioError};
use bevy_ecs::prelude::*;

/// A connection silent for more than this many ticks is stale (audit item 6: 60 s).
pub const STALE_AFTER: u64 = 60;

/// The longest reconnect backoff allowed (audit item 9: 60 s).
pub const BACKOFF_CAP: u64 = 60;

/// The keys `[adapters]` accepts.
pub const KEYS: &[&str] =
    &["quota", "health_period", "probe", "keepalive", "max_failures", "chain_deadline", "observe_until"];

/// Parameters of a run, from `[adapters]` or their defaults.
#[derive(Resource, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// EventSub subscriptions the API allows at once (zombies count against it). Default 10.
    pub quota: u64,
    /// Ticks between health checks. Default 30.
    pub health_period: u64,
    /// How long `validate_connection_health()` waits for a message. Default 5.
    pub probe: u64,
    /// Ticks between the chat server's keepalive PINGs on a live connection. Default 20.
    pub keepalive: u64,
    /// Consecutive reconnect failures after which the coordinator must escalate. Default 8.
    pub max_failures: u32,
    /// Liveness deadline of `reactive_chain_completes`. Default 150.
    pub chain_deadline: u64,
    /// Last tick of observation: periodic work (health checks, keepalives) is not scheduled
    /// after it, so that a run can reach quiescence and its end-of-run checks. Default: 200
    /// ticks after the last step (at most `max_ticks`).
    pub observe_until: u64,
}

impl Config {
    /// Read `[adapters]` from `scenario`, with located errors.
    pub fn parse(scenario: &Scenario) -> Result<Config, ScenarioError> {
        let last_step = scenario
            .steps
            .iter()
            .map(|s| match s.at {
                At::Tick(t) => t,
                At::Window(_, hi) => hi,
            })
            .max()
            .unwrap_or(0);
        let mut c = Config {
            quota: 10,
            health_period: 30,
            probe: 5,
            keepalive: 20,
            max_failures: 8,
            chain_deadline: 150,
            observe_until: (last_step + 200).min(scenario.max_ticks),
        };
        let Some(section) = scenario.doc.get("adapters") else { return Ok(c) };
        let src = &scenario.source;
        let t = section.table(src, "adapters")?;
        t.deny_unknown(src, "`[adapters]`", KEYS)?;
        let get = |key: &str, lo: u64, hi: u64, why: &str| -> Result<Option<u64>, ScenarioError> {
            let Some(v) = t.get(key) else { return Ok(None) };
            let n = v.uint(src, key)?;
            if n < lo || n > hi {
                return Err(
                    src.error(v.span.clone(), format!("`{key}` = {n} is out of range; expected {lo}..={hi} ({why})"))
                );
            }
            Ok(Some(n))
        };
        if let Some(n) = get("quota", 1, 100_000, "subscriptions the API allows")? {
            c.quota = n;
        }
        if let Some(n) = get("health_period", 2, 10_000, "ticks between health checks")? {
            c.health_period = n;
        }
        if let Some(n) =
            get("keepalive", 1, STALE_AFTER - 1, "PINGs must come more often than the staleness threshold")?
        {
            c.keepalive = n;
        }
        if let Some(n) = get("max_failures", 1, 32, "consecutive failures before escalation")? {
            c.max_failures = n as u32;
        }
        if let Some(n) = get("chain_deadline", 1, 1_000_000, "liveness deadline in ticks")? {
            c.chain_deadline = n;
        }
        if let Some(n) = get("observe_until", 1, scenario.max_ticks, "at most max_ticks")? {
            c.observe_until = n;
        }
        if let Some(n) = get("probe", 1, c.health_period - 1, "the validation must end before the next health check")? {
            c.probe = n;
        }
        Ok(c)
    }
}
