//! The `[sse]` section of a scenario: sizes, rates, the store's faults and the window switch.

use super::window::WindowKind;
use crate::scenario::{Scenario, ScenarioError, Value};
use bevy_ecs::prelude::*;

/// The model's knobs, with the defaults used when `[sse]` leaves a field out.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct SseConfig {
    /// Dedup window implementation (`window = "linear" | "indexed"`).
    pub window: WindowKind,
    /// The tracker's window size (the seed passes `max_pending_per_session`).
    pub max_tracked: usize,
    /// Capacity of the persistence channel (`crossbeam_channel::bounded`).
    pub capacity: usize,
    /// Events a server emits per tick while a burst lasts.
    pub rate: u64,
    /// Ticks an awaiting `send` may wait before the timeout (the seeds' 100 ms).
    pub send_timeout: u64,
    /// Requests the E.1 worker takes per `recv_many`.
    pub batch: usize,
    /// Store write latency in ticks, inclusive; the tape picks until heal.
    pub store_latency: (u64, u64),
    /// Probability that a store write fails, until heal.
    pub store_fail: f64,
    /// At most this many events before `Last-Event-ID` a server may replay too (a fault the
    /// tape picks on each reconnect, until heal).
    pub replay_older: u64,
    /// First retry delay of a failed write, in ticks; doubled on each further failure.
    pub retry_base: u64,
    /// Cap of the retry delay.
    pub retry_max: u64,
    /// Liveness deadline (ticks after the later of heal and the condition turning hot).
    pub deadline: u64,
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig {
            window: WindowKind::Linear,
            max_tracked: 100,
            capacity: 16,
            rate: 1,
            send_timeout: 100,
            batch: 32,
            store_latency: (1, 1),
            store_fail: 0.0,
            replay_older: 0,
            retry_base: 10,
            retry_max: 1000,
            deadline: 1000,
        }
    }
}

/// The largest size `[sse]` accepts (`max_tracked`, `capacity`, `batch`, `replay_older`):
/// each is memory allocated per run (a channel of `capacity` is allocated up front).
pub const MAX_SIZE: u64 = 100_000;
/// The most events a session may send per tick (`rate`).
pub const MAX_RATE: u64 = 10_000;
/// The longest delay, timeout or deadline, in ticks, `[sse]` accepts.
pub const MAX_TICKS_FIELD: u64 = 1_000_000;

/// The fields `[sse]` accepts.
pub const FIELDS: &[&str] = &[
    "window",
    "max_tracked",
    "capacity",
    "rate",
    "send_timeout",
    "batch",
    "store_latency",
    "store_fail",
    "replay_older",
    "retry_base",
    "retry_max",
    "deadline",
];

impl SseConfig {
    /// Read `[sse]` from `scenario` (all defaults if absent).
    pub fn parse(scenario: &Scenario) -> Result<SseConfig, ScenarioError> {
        let src = &scenario.source;
        let mut cfg = SseConfig::default();
        let Some(section) = scenario.doc.get("sse") else {
            return Ok(cfg);
        };
        let t = section.table(src, "sse")?;
        t.deny_unknown(src, "`[sse]`", FIELDS)?;
        let positive = |v: &Value, field: &str| -> Result<u64, ScenarioError> {
            let max = if field == "rate" { MAX_RATE } else { MAX_TICKS_FIELD };
            let n = v.uint_max(src, field, max)?;
            if n == 0 {
                return Err(src.error(v.span.clone(), format!("`{field}` must be at least 1")));
            }
            Ok(n)
        };
        let size = |v: &Value, field: &str, n: u64| -> Result<usize, ScenarioError> {
            usize::try_from(n).ok().filter(|n| *n as u64 <= MAX_SIZE).ok_or_else(|| {
                src.error(v.span.clone(), format!("`{field}` = {n} is too large; expected at most {MAX_SIZE}"))
            })
        };
        for (key, _, v) in &t.entries {
            match key.as_str() {
                "window" => {
                    let name = v.str(src, "window")?;
                    cfg.window = WindowKind::from_name(name).ok_or_else(|| {
                        src.error(
                            v.span.clone(),
                            format!("unknown window `{name}`; expected one of: {}", WindowKind::NAMES.join(", ")),
                        )
                    })?;
                }
                "max_tracked" => cfg.max_tracked = size(v, key, v.uint(src, key)?)?,
                "capacity" => {
                    // A zero-capacity crossbeam channel is a rendezvous: with the worker
                    // never parked in `recv`, no send could ever succeed.
                    cfg.capacity = size(v, key, positive(v, key)?)?;
                }
                "rate" => cfg.rate = positive(v, key)?,
                "send_timeout" => cfg.send_timeout = positive(v, key)?,
                "batch" => cfg.batch = size(v, key, positive(v, key)?)?,
                "store_latency" => {
                    cfg.store_latency = v.range_max(src, key, MAX_TICKS_FIELD)?;
                    if cfg.store_latency.0 == 0 {
                        return Err(src.error(
                            v.span.clone(),
                            "`store_latency` must start at 1 or more: a write completes on a later tick",
                        ));
                    }
                }
                "store_fail" => cfg.store_fail = v.probability(src, key)?,
                "replay_older" => cfg.replay_older = v.uint_max(src, key, MAX_SIZE)?,
                "retry_base" => cfg.retry_base = positive(v, key)?,
                "retry_max" => cfg.retry_max = positive(v, key)?,
                "deadline" => cfg.deadline = positive(v, key)?,
                _ => {}
            }
        }
        if cfg.retry_max < cfg.retry_base
            && let Some(v) = t.get("retry_max")
        {
            return Err(src.error(
                v.span.clone(),
                format!("`retry_max` = {} is below `retry_base` = {}", cfg.retry_max, cfg.retry_base),
            ));
        }
        if cfg.retry_max < cfg.retry_base {
            cfg.retry_max = cfg.retry_base;
        }
        Ok(cfg)
    }

    /// The delay before retry number `attempt` (1 for the first retry): exponential, capped.
    pub fn backoff(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(40);
        self.retry_base.saturating_mul(1u64 << shift).min(self.retry_max)
    }
}
