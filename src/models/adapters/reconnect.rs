//! The reconnection coordinator (audit item 9): exponential backoff between attempts. As
//! audited the backoff has no cap and the loop no end; the fix caps each delay at 60 ticks
//! and escalates after N consecutive failures instead of retrying.

use super::config::BACKOFF_CAP;
use super::messages::ChatTimer;
use crate::engine::timers::Timers;

/// The longest delay the uncapped loop schedules (keeps tick arithmetic finite).
const LONGEST: u64 = 1 << 40;

/// A retry the coordinator scheduled: what `reconnect_bounded` judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Its backoff delay.
    pub delay: u64,
    /// Consecutive failures before it.
    pub after_failures: u32,
    /// When it was scheduled.
    pub at: u64,
}

/// The coordinator's state.
#[derive(Clone, Debug, Default)]
pub struct Coordinator {
    /// Consecutive failed attempts in the current cycle.
    pub failures: u32,
    /// Attempts so far (the number of the one in flight).
    pub attempt: u64,
    /// The latest retry scheduled.
    pub last_retry: Option<Retry>,
    /// Whether it gave up and escalated.
    pub escalated: bool,
}

impl Coordinator {
    /// The delay before the next attempt: 2^failures ticks, capped by the fix.
    pub fn backoff(&self, capped: bool) -> u64 {
        let d = 1u64.checked_shl(self.failures).unwrap_or(LONGEST).min(LONGEST);
        if capped { d.min(BACKOFF_CAP) } else { d }
    }

    /// The connection closed: start a reconnect cycle.
    pub fn start(&mut self, now: u64, timers: &mut Timers<ChatTimer>, capped: bool) {
        self.failures = 0;
        self.escalated = false;
        self.schedule(now, timers, capped);
    }

    /// An attempt failed: retry after the backoff, or (the fix) escalate after
    /// `max_failures` in a row. Returns whether it escalated.
    pub fn failed(&mut self, now: u64, timers: &mut Timers<ChatTimer>, capped: bool, max_failures: u32) -> bool {
        self.failures += 1;
        if capped && self.failures >= max_failures {
            self.escalated = true;
            return true;
        }
        self.schedule(now, timers, capped);
        false
    }

    /// An attempt succeeded.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    fn schedule(&mut self, now: u64, timers: &mut Timers<ChatTimer>, capped: bool) {
        let delay = self.backoff(capped);
        self.last_retry = Some(Retry { delay, after_failures: self.failures, at: now });
        timers.after(now, delay, ChatTimer::Backoff);
    }
}
