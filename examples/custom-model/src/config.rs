//! The model's own parts of a scenario file: its `[[step]]`s and its `[sockets]` section,
//! parsed once by [`crate::Sockets`]'s `configure` into a [`Config`].

// The prelude includes racelab's `bevy_ecs`, which Bevy's derives expand to: the crate needs
// no Bevy dependency of its own.
use racelab::prelude::*;

/// The steps this model accepts (for `racelab list` and for the parser's error messages).
pub const STEPS: &[StepDoc] = &[
    StepDoc { name: "connect", fields: &[], about: "client.connect(): open a new socket and make it current" },
    StepDoc {
        name: "reconnect",
        fields: &[],
        about: "client.reconnect(): close the current socket, connect() again after a backoff",
    },
    StepDoc {
        name: "send",
        fields: &["message"],
        about: "client.send(message): queue it; the queue is flushed through the socket once per tick",
    },
];

/// A step as the file says it, before its names become ids (that happens in `install`,
/// against the simulation's own id table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepSpec {
    /// `do = "connect"`.
    Connect,
    /// `do = "reconnect"`.
    Reconnect,
    /// `do = "send"`, `message = "..."`.
    Send(String),
}

/// Platform timing, from the `[sockets]` section.
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Ticks `reconnect()` waits before it calls `connect()` (`setTimeout`); the tape picks.
    pub backoff: (u64, u64),
    /// `reconnect_completes` deadline, in ticks after the heal point.
    pub settle_deadline: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params { backoff: (1, 5), settle_deadline: 100 }
    }
}

/// The scenario as this model reads it.
#[derive(Clone, Debug)]
pub struct Config {
    /// The `[sockets]` section.
    pub params: Params,
    /// The steps, in file order.
    pub steps: Vec<(At, StepSpec)>,
}

impl Config {
    /// Read the model's parts of `scenario`. The generic parser has already checked every
    /// step's `at` and that its `do` is one of [`STEPS`]; this checks the steps' own fields.
    pub fn parse(scenario: &Scenario) -> Result<Config, ScenarioError> {
        let src = &scenario.source;
        let mut steps = Vec::with_capacity(scenario.steps.len());
        for step in &scenario.steps {
            let fields = STEPS.iter().find(|s| s.name == step.kind).map_or(&[][..], |s| s.fields);
            step.deny_unknown(src, fields)?;
            let spec = match step.kind.as_str() {
                "connect" => StepSpec::Connect,
                "reconnect" => StepSpec::Reconnect,
                "send" => {
                    let message = step.str(src, "message")?;
                    if message.is_empty() || message.contains(char::is_whitespace) {
                        let span = step.table.get("message").map_or(step.table.span.clone(), |v| v.span.clone());
                        return Err(src.error(span, "`message` must be a non-empty name without spaces"));
                    }
                    StepSpec::Send(message)
                }
                other => return Err(src.error(step.kind_span.clone(), format!("unknown step `{other}`"))),
            };
            steps.push((step.at, spec));
        }
        Ok(Config { params: parse_params(scenario)?, steps })
    }
}

fn parse_params(scenario: &Scenario) -> Result<Params, ScenarioError> {
    let src = &scenario.source;
    let mut params = Params::default();
    let Some(section) = scenario.doc.get("sockets") else {
        return Ok(params);
    };
    let table = section.table(src, "sockets")?;
    table.deny_unknown(src, "`[sockets]`", &["backoff", "settle_deadline"])?;
    if let Some(v) = table.get("backoff") {
        params.backoff = v.range(src, "backoff")?;
        if params.backoff.0 == 0 {
            // A timer fires on a later tick: a zero backoff would silently mean one.
            return Err(src.error(v.span.clone(), "`backoff` must start at 1: setTimeout fires on a later tick"));
        }
    }
    if let Some(v) = table.get("settle_deadline") {
        params.settle_deadline = v.uint(src, "settle_deadline")?;
    }
    Ok(params)
}
