//! The adapters model ships the scenarios its issue names. Their expectations are checked,
//! with every other scenario's, by `tests/scenarios.rs`.

use racelab::prelude::*;
use std::path::Path;

fn adapters_scenarios() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| Scenario::load(&Registry::builtin(), p).unwrap_or_else(|e| panic!("{e}")))
        .filter(|s| s.model == "adapters")
        .collect()
}

#[test]
fn the_issue_scenarios_are_shipped() {
    let names: Vec<String> = adapters_scenarios().into_iter().map(|s| s.name).collect();
    for wanted in [
        "clone_loses_callbacks",
        "auth_recovery_chain",
        "leave_channel_zombie",
        "health_check_eats_messages",
        "silent_connection",
        "persistent_reconnect_failure",
    ] {
        assert!(names.iter().any(|n| n == wanted), "{wanted} missing from {names:?}");
    }
}
