//! What travels the wire (event-bus deliveries, API calls, chat traffic) and the timers.

use super::actions::AuthKind;
use crate::engine::ids::Id;
use crate::engine::trace::{Args, Describe};

/// One delivery of an auth event by the event bus to one subscribed adapter.
#[derive(Clone, Debug)]
pub struct BusMsg {
    /// The event's number (1-based, in publishing order).
    pub event: u32,
    /// Its kind.
    pub kind: AuthKind,
    /// The bus.
    pub from: Id,
    /// The subscribed adapter.
    pub to: Id,
}

impl Describe for BusMsg {
    fn label(&self) -> &'static str {
        "auth_event"
    }
    fn actor(&self) -> Id {
        self.from
    }
    fn target(&self) -> Id {
        self.to
    }
    fn args(&self) -> Args {
        Args::EMPTY.u("event", u64::from(self.event)).s("kind", self.kind.name())
    }
}

/// An EventSub API call or its answer.
#[derive(Clone, Debug)]
pub struct Api {
    /// Sender.
    pub from: Id,
    /// Receiver.
    pub to: Id,
    /// What.
    pub body: ApiBody,
}

/// The calls and answers between the EventSub client and the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiBody {
    /// Open an EventSub session (the client's attempt number `attempt`).
    Connect {
        /// Client attempt number.
        attempt: u64,
    },
    /// The session is open.
    Welcome {
        /// The attempt it answers.
        attempt: u64,
        /// The session.
        session: u64,
    },
    /// Subscribe `channel`'s events on `session`.
    Subscribe {
        /// The session.
        session: u64,
        /// The channel.
        channel: Id,
    },
    /// The subscription exists and counts against the quota.
    Subscribed {
        /// The session.
        session: u64,
        /// The channel.
        channel: Id,
        /// The subscription's number.
        sub: u64,
    },
    /// The subscription was refused.
    Refused {
        /// The session.
        session: u64,
        /// The channel.
        channel: Id,
        /// `quota` or `no_session`.
        reason: &'static str,
    },
    /// Delete a subscription.
    Unsubscribe {
        /// The subscription.
        sub: u64,
        /// Its channel (for the trace).
        channel: Id,
    },
    /// Close a session; the API deletes its subscriptions.
    Disconnect {
        /// The session.
        session: u64,
    },
}

impl Describe for Api {
    fn label(&self) -> &'static str {
        match self.body {
            ApiBody::Connect { .. } => "connect",
            ApiBody::Welcome { .. } => "welcome",
            ApiBody::Subscribe { .. } => "subscribe",
            ApiBody::Subscribed { .. } => "subscribed",
            ApiBody::Refused { .. } => "refused",
            ApiBody::Unsubscribe { .. } => "unsubscribe",
            ApiBody::Disconnect { .. } => "disconnect",
        }
    }
    fn actor(&self) -> Id {
        self.from
    }
    fn target(&self) -> Id {
        self.to
    }
    fn args(&self) -> Args {
        match self.body {
            ApiBody::Connect { attempt } => Args::EMPTY.u("attempt", attempt),
            ApiBody::Welcome { attempt, session } => Args::EMPTY.u("attempt", attempt).u("session", session),
            ApiBody::Subscribe { session, channel } => Args::EMPTY.u("session", session).id("channel", channel),
            ApiBody::Subscribed { session, channel, sub } => {
                Args::EMPTY.u("session", session).id("channel", channel).u("sub", sub)
            }
            ApiBody::Refused { session, channel, reason } => {
                Args::EMPTY.u("session", session).id("channel", channel).s("reason", reason)
            }
            ApiBody::Unsubscribe { sub, channel } => Args::EMPTY.u("sub", sub).id("channel", channel),
            ApiBody::Disconnect { session } => Args::EMPTY.u("session", session),
        }
    }
}

/// Chat traffic: frames from the chat server and the coordinator's connection attempts.
#[derive(Clone, Debug)]
pub struct Irc {
    /// Sender.
    pub from: Id,
    /// Receiver.
    pub to: Id,
    /// What.
    pub body: IrcBody,
}

/// The kinds of chat traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrcBody {
    /// A chat message on connection `conn`.
    Chat {
        /// Connection generation.
        conn: u64,
        /// Channel.
        channel: Id,
        /// Sequence number (run-wide).
        seq: u64,
    },
    /// A keepalive PING on connection `conn`.
    Ping {
        /// Connection generation.
        conn: u64,
    },
    /// A reconnect attempt.
    Connect {
        /// The attempt's number.
        attempt: u64,
    },
    /// The attempt succeeded: connection `conn` is open.
    Accepted {
        /// The attempt.
        attempt: u64,
        /// The new connection's generation.
        conn: u64,
    },
    /// The attempt failed.
    Refused {
        /// The attempt.
        attempt: u64,
    },
    /// The bot closes connection `conn` (it judged it unhealthy).
    Close {
        /// Connection generation.
        conn: u64,
    },
}

impl Describe for Irc {
    fn label(&self) -> &'static str {
        match self.body {
            IrcBody::Chat { .. } => "chat_message",
            IrcBody::Ping { .. } => "ping",
            IrcBody::Connect { .. } => "connect",
            IrcBody::Accepted { .. } => "accepted",
            IrcBody::Refused { .. } => "refused",
            IrcBody::Close { .. } => "close",
        }
    }
    fn actor(&self) -> Id {
        self.from
    }
    fn target(&self) -> Id {
        self.to
    }
    fn args(&self) -> Args {
        match self.body {
            IrcBody::Chat { conn, channel, seq } => Args::EMPTY.u("conn", conn).id("channel", channel).u("seq", seq),
            IrcBody::Ping { conn } | IrcBody::Close { conn } => Args::EMPTY.u("conn", conn),
            IrcBody::Connect { attempt } | IrcBody::Refused { attempt } => Args::EMPTY.u("attempt", attempt),
            IrcBody::Accepted { attempt, conn } => Args::EMPTY.u("attempt", attempt).u("conn", conn),
        }
    }
}

/// Timers of the chat side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatTimer {
    /// The periodic health check.
    Health,
    /// The coordinator's backoff before its next attempt ends.
    Backoff,
    /// The OS finally reports a secretly dead connection closed.
    TcpClose {
        /// Connection generation.
        conn: u64,
    },
    /// The chat server's next keepalive PING on connection `conn`.
    Keepalive {
        /// Connection generation.
        conn: u64,
    },
}
