//! The steps a signaling scenario can script.

use crate::engine::model::StepDoc;
use crate::engine::trace::Describe;
use crate::engine::{Id, Names};
use crate::scenario::{Scenario, ScenarioError, Step};

/// The most reconnections one `reconnect_loop` step may make.
pub const MAX_RECONNECTS: u64 = 10_000;

/// A scripted step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `enableExternalConnections(serverUrl)`.
    EnableExternal(Id),
    /// `disableExternalConnections()`.
    DisableExternal,
    /// `connectToExternalPeer(peer)`.
    Connect(Id),
    /// `disconnectPeer(peer)`.
    Disconnect(Id),
    /// `dispose()`.
    Dispose,
    /// `await disable(); await enable(server)`.
    SwitchServer(Id),
    /// The peer's connection fails mid-setup.
    FailPeer(Id),
    /// The network changed: connected transports drop and gather new candidates.
    NetworkChange,
    /// Seed 004's unit test 3: `for (i < count) { await enable(server); await connect(peer);
    /// await disable(); }`.
    ReconnectLoop(Id, Id, u64),
}

/// The steps, for `racelab list` and error messages.
pub const STEPS: &[StepDoc] = &[
    StepDoc {
        name: "enable_external",
        fields: &["server"],
        about: "enableExternalConnections with a signaling server",
    },
    StepDoc { name: "disable_external", fields: &[], about: "disableExternalConnections" },
    StepDoc { name: "connect", fields: &["peer"], about: "connectToExternalPeer: start a WebRTC connection" },
    StepDoc { name: "disconnect", fields: &["peer"], about: "disconnectPeer: close the peer's connection" },
    StepDoc { name: "dispose", fields: &[], about: "ConnectionManager.dispose()" },
    StepDoc { name: "switch_server", fields: &["server"], about: "await disable, then enable with another server" },
    StepDoc { name: "fail_peer", fields: &["peer"], about: "the peer's connection fails mid-setup" },
    StepDoc {
        name: "network_change",
        fields: &[],
        about: "connected transports drop and gather new candidates (continual gathering)",
    },
    StepDoc {
        name: "reconnect_loop",
        fields: &["server", "peer", "count"],
        about: "seed 004's unit test 3: `count` times, await enable, await connect, await disable",
    },
];

/// The stable id of server `name`.
pub fn server_id(names: &mut Names, name: &str) -> Id {
    names.intern(&format!("server:{name}"))
}

/// The stable id of remote peer `name`.
pub fn peer_id(names: &mut Names, name: &str) -> Id {
    names.intern(&format!("peer:{name}"))
}

/// Parse one step (its kind is already known to be one of [`STEPS`]).
pub fn parse(scenario: &Scenario, step: &Step, names: &mut Names) -> Result<Action, ScenarioError> {
    let src = &scenario.source;
    let name_field = |field: &str| -> Result<String, ScenarioError> {
        let v = step.str(src, field)?;
        if v.is_empty() || v.contains(char::is_whitespace) {
            let span = step.table.get(field).map_or(step.table.span.clone(), |v| v.span.clone());
            return Err(src.error(span, format!("`{field}` must be a non-empty name without spaces")));
        }
        Ok(v)
    };
    let kind = step.kind.as_str();
    let doc = STEPS.iter().find(|s| s.name == kind).map(|s| s.fields).unwrap_or(&[]);
    step.deny_unknown(src, doc)?;
    Ok(match kind {
        "enable_external" => Action::EnableExternal(server_id(names, &name_field("server")?)),
        "disable_external" => Action::DisableExternal,
        "connect" => Action::Connect(peer_id(names, &name_field("peer")?)),
        "disconnect" => Action::Disconnect(peer_id(names, &name_field("peer")?)),
        "dispose" => Action::Dispose,
        "switch_server" => Action::SwitchServer(server_id(names, &name_field("server")?)),
        "fail_peer" => Action::FailPeer(peer_id(names, &name_field("peer")?)),
        "network_change" => Action::NetworkChange,
        "reconnect_loop" => {
            let count = step.uint(src, "count")?;
            let span = || step.table.get("count").map_or(step.table.span.clone(), |v| v.span.clone());
            if count == 0 {
                return Err(src.error(span(), "`count` must be at least 1"));
            }
            if count > MAX_RECONNECTS {
                return Err(
                    src.error(span(), format!("`count` = {count} is too large; expected at most {MAX_RECONNECTS}"))
                );
            }
            Action::ReconnectLoop(server_id(names, &name_field("server")?), peer_id(names, &name_field("peer")?), count)
        }
        other => return Err(src.error(step.kind_span.clone(), format!("unknown step `{other}`"))),
    })
}

/// An action as scripted: who performs it (the app) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The acting app ("app").
    pub by: Id,
    /// The action.
    pub action: Action,
}

impl Describe for Command {
    fn label(&self) -> &'static str {
        self.action.label()
    }
    fn actor(&self) -> Id {
        self.by
    }
    fn target(&self) -> Id {
        self.action.target()
    }
}

impl Describe for Action {
    fn label(&self) -> &'static str {
        match self {
            Action::EnableExternal(_) => "enable_external",
            Action::DisableExternal => "disable_external",
            Action::Connect(_) => "connect",
            Action::Disconnect(_) => "disconnect",
            Action::Dispose => "dispose",
            Action::SwitchServer(_) => "switch_server",
            Action::FailPeer(_) => "fail_peer",
            Action::NetworkChange => "network_change",
            Action::ReconnectLoop(..) => "reconnect_loop",
        }
    }
    fn target(&self) -> Id {
        match self {
            Action::EnableExternal(id)
            | Action::Connect(id)
            | Action::Disconnect(id)
            | Action::SwitchServer(id)
            | Action::FailPeer(id)
            | Action::ReconnectLoop(_, id, _) => *id,
            _ => Id::NONE,
        }
    }
}
