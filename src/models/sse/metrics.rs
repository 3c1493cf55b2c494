//! Names of the model's counters in the outcome's metrics.
//!
//! The first four are the seeds' Prometheus counters; `metrics_consistent` checks that they
//! add up to [`RECORDED`] on the one path whose code shows them (the timed `send`). The rest are what the model can see and the seeds cannot.

/// `SSE_DUPLICATE_EVENTS`: ids `record_event` found in the window.
pub const DUPLICATES: &str = "sse.duplicate_events";
/// `PERSISTENCE_QUEUED`: requests that entered the channel.
pub const QUEUED: &str = "persistence.queued";
/// `PERSISTENCE_CHANNEL_CLOSED`: sends that found the receiver gone.
pub const CHANNEL_CLOSED: &str = "persistence.channel_closed";
/// `PERSISTENCE_BACKPRESSURE_TIMEOUT`: sends that waited out the timeout.
pub const BACKPRESSURE_TIMEOUT: &str = "persistence.backpressure_timeout";

/// `record_event` calls that returned (the events the tracker saw).
pub const RECORDED: &str = "tracker.recorded";
/// `record_event` calls abandoned mid-`send` by a restart.
pub const ABANDONED: &str = "tracker.abandoned";
/// Requests a `try_send` dropped because the channel was full (no seed counter).
pub const DROPPED_FULL: &str = "persistence.dropped_full";
/// Requests a `try_send` dropped because the channel was closed (no seed counter).
pub const DROPPED_CLOSED: &str = "persistence.dropped_closed";
/// Requests still queued when the receiver was dropped.
pub const LOST_IN_CHANNEL: &str = "persistence.lost_in_channel";
/// Deepest the channel got.
pub const PEAK_DEPTH: &str = "channel.peak_depth";
/// Longest a tracker waited in `send`, in ticks.
pub const MAX_BLOCKED: &str = "tracker.max_blocked_ticks";

/// Events the consuming application got (duplicates included).
pub const DELIVERED: &str = "app.delivered";
/// Longest time from an event's first emission to its delivery, in ticks.
pub const MAX_LAG: &str = "app.max_lag_ticks";
/// Events the server emitted (each id once).
pub const EMITTED: &str = "server.emitted";
/// Frames the server sent, replays included.
pub const FRAMES: &str = "server.frames";
/// Frames sent again because a reconnect's Last-Event-ID asked for them.
pub const REPLAYED: &str = "server.replayed";
/// Frames of events before Last-Event-ID that a server replayed as a fault.
pub const REPLAYED_OLDER: &str = "server.replayed_older";
/// Events read from a stream but lost when it broke before `record_event` took them.
pub const LOST_ON_DISCONNECT: &str = "stream.lost_on_disconnect";
/// Frames that arrived for a connection that had already broken.
pub const STALE_FRAMES: &str = "stream.stale_frames";
/// Streams whose task ended with an error (Option 2's `?` on a closed channel).
pub const STREAMS_ENDED: &str = "stream.ended_by_error";

/// Requests the worker took from the channel.
pub const WORKER_RECEIVED: &str = "worker.received";
/// Requests that got no write of their own (merged into a newer id of the same session,
/// or older than what the worker already wrote).
pub const COALESCED: &str = "worker.coalesced";
/// Failed writes the worker will try again.
pub const RETRIES: &str = "worker.retries";
/// Failed writes the worker gave up on.
pub const GAVE_UP: &str = "worker.gave_up";
/// Writes the store applied.
pub const STORE_WRITES: &str = "store.writes";
/// Writes that failed.
pub const STORE_FAILURES: &str = "store.failures";

/// The counters every outcome reports, even at zero.
pub const ALWAYS: &[&str] = &[
    DUPLICATES,
    QUEUED,
    CHANNEL_CLOSED,
    BACKPRESSURE_TIMEOUT,
    RECORDED,
    DELIVERED,
    STORE_WRITES,
    COALESCED,
    PEAK_DEPTH,
];
