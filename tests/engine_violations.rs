//! Every violation reported: a run goes on past its first broken invariant and records the
//! first break of each; the verdict names the first; `[[expect]]` can hold a variant to
//! exactly a set of breaks (`violates`) or to at least some (`includes`); stopping at the
//! first break is an explicit option.

use racelab::engine::Verdict;
use racelab::explore::run::{judge, run_variant};
use racelab::prelude::*;

/// The rapid-reconnect scenario, with flag_callback's expectation on a line of its own.
fn rapid_text() -> String {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/rapid_reconnect.toml")).expect("reads");
    let shared = "variant = [\"flag_callback\", \"per_peer_map\",";
    assert!(text.contains(shared), "flag_callback shares an expectation with other variants");
    text.replace(shared, "variant = [\"per_peer_map\",").replacen(
        "[[expect]]",
        &format!("[[expect]]\n{BLOCK}\n\n[[expect]]"),
        1,
    )
}

/// flag_callback's breaks over seeds 0..40.
const BLOCK: &str = "variant = \"flag_callback\"\nviolates = [\"candidate_to_own_session\", \"connect_settles\", \"enable_keeps_its_client\", \"no_orphan_client\"]";

fn rapid(text: &str) -> Scenario {
    Scenario::parse(&Registry::builtin(), "rapid_reconnect.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

/// A seed of flag_callback that breaks three invariants.
fn three_seed(sim: &mut Sim) -> u64 {
    (0..100).find(|&s| sim.seed(s).violations.len() == 3).expect("a seed breaking three invariants")
}

#[test]
fn a_run_records_every_invariant_it_breaks_and_the_first_is_the_verdict() {
    let s = rapid(&rapid_text());
    let mut sim = Sim::new(&s, "flag_callback").expect("builds");
    let seed = three_seed(&mut sim);
    let o = sim.seed(seed);
    let names: Vec<&str> = o.violations.iter().filter_map(Verdict::failed_check).collect();
    assert_eq!(names, ["enable_keeps_its_client", "connect_settles", "no_orphan_client"]);
    assert_eq!(o.verdict, o.violations[0]);
    let ticks: Vec<u64> = o
        .violations
        .iter()
        .map(|v| match v {
            Verdict::Violation { tick, .. } | Verdict::Liveness { tick, .. } => *tick,
            _ => 0,
        })
        .collect();
    assert!(ticks.windows(2).all(|w| w[0] <= w[1]), "in the order they broke: {ticks:?}");
    assert_eq!(o.checks(), names);

    // Stopping at the first break is asked for, never the default.
    sim.stop_at_first(true);
    let first = sim.seed(seed);
    assert_eq!(first.verdict, o.verdict);
    assert_eq!(first.violations.len(), 1);
    assert!(first.ticks <= o.ticks);
    sim.stop_at_first(false);
    assert_eq!(sim.seed(seed), o, "the option does not stick to later runs once off");
}

#[test]
fn violates_means_exactly_that_set_and_includes_at_least() {
    let text = rapid_text();
    let block = BLOCK;
    let seeds = 0..40;

    let exact = rapid(&text);
    assert_eq!(judge(&exact, &run_variant(&exact, "flag_callback", seeds.clone()).expect("runs")), Ok(()));

    let too_few = rapid(&text.replace(block, "variant = \"flag_callback\"\nviolates = \"enable_keeps_its_client\""));
    let err = judge(&too_few, &run_variant(&too_few, "flag_callback", seeds.clone()).expect("runs")).unwrap_err();
    assert!(err.starts_with("expected exactly enable_keeps_its_client to fail, but"), "{err}");
    assert!(err.contains("also failed candidate_to_own_session"), "{err}");

    let includes = rapid(&text.replace(block, "variant = \"flag_callback\"\nincludes = \"enable_keeps_its_client\""));
    assert_eq!(judge(&includes, &run_variant(&includes, "flag_callback", seeds.clone()).expect("runs")), Ok(()));

    let never = rapid(&text.replace(
        block,
        "variant = \"flag_callback\"\nincludes = [\"enable_keeps_its_client\", \"no_send_on_disposed_client\"]",
    ));
    let err = judge(&never, &run_variant(&never, "flag_callback", seeds).expect("runs")).unwrap_err();
    assert!(
        err.starts_with("expected no_send_on_disposed_client to fail, but none of 40 seeds did (they failed: "),
        "{err}"
    );
}

#[test]
fn an_expectation_naming_no_invariant_is_an_error() {
    let text = rapid_text().replace(BLOCK, "variant = \"flag_callback\"\nincludes = []");
    let e = Scenario::parse(&Registry::builtin(), "x.toml", &text).unwrap_err().to_string();
    assert!(e.contains("`includes` names no invariant"), "{e}");
}
