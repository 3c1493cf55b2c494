//! State: the client and each socket are entities named by a stable [`Id`]; what the server
//! received is a resource that every run starts empty.

// The prelude includes racelab's `bevy_ecs`, which Bevy's derives expand to: the crate needs
// no Bevy dependency of its own.
use racelab::prelude::*;

/// `client.socket` and `client.connected`, and what the app asked of the client.
#[derive(Component, Debug, Default)]
pub struct Client {
    /// `this.socket`: the socket the client talks through (`None` is `null`).
    pub current: Option<Id>,
    /// `this.connected`: what the client tells the app.
    pub connected: bool,
    /// Whether the app has called `connect()`: from then on it expects a connection.
    pub wanted: bool,
    /// Sockets opened so far; numbers the next one.
    pub opened: u32,
    /// Messages `send()` queued and the flush has not sent yet.
    pub outbox: Vec<Id>,
    /// Every message the app handed to `send()`, in order.
    pub sent: Vec<Id>,
}

/// One `WebSocket` object.
#[derive(Component, Debug)]
pub struct Socket {
    /// The client that opened it.
    pub client: Id,
    /// Its `readyState`.
    pub state: SocketState,
    /// Whether its `onopen`/`onclose` handlers are still attached.
    pub handlers: bool,
}

/// A socket's `readyState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketState {
    /// `CONNECTING`: the opening handshake is under way.
    Connecting,
    /// `OPEN`.
    Open,
    /// `CLOSING`: `close()` was called, the closing handshake is under way.
    Closing,
    /// `CLOSED`: the close completed and `onclose` has run (if attached).
    Closed,
}

impl SocketState {
    /// The name traces use.
    pub fn name(self) -> &'static str {
        match self {
            SocketState::Connecting => "connecting",
            SocketState::Open => "open",
            SocketState::Closing => "closing",
            SocketState::Closed => "closed",
        }
    }
}

/// The stable ids of the fixed actors, interned when the model is installed.
#[derive(Resource, Clone, Copy, Debug)]
pub struct Cast {
    /// The application that calls the client (the actor of every step).
    pub app: Id,
    /// The client.
    pub client: Id,
    /// The WebSocket server.
    pub server: Id,
}

/// What reached the server. It changes during a run, so the model inserts it with
/// `init_sim_resource` and the engine puts a fresh one back before each run.
#[derive(Resource, Clone, Debug, Default)]
pub struct ServerLog {
    /// Data messages received, in order (a duplicated envelope shows twice).
    pub received: Vec<Id>,
}
