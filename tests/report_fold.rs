//! The text timeline folds long stretches of plain wire traffic, never faults, states or the
//! lead-up to the violation, and accounts for every event it folds.

mod report_support;

use racelab::engine::trace::EventKind;
use racelab::report::timeline::{self, KEEP_TAIL};
use racelab::report::view::View;
use report_support::synthetic;

#[test]
fn quiet_stretches_fold_and_the_rest_stays() {
    let (trace, names, out) = synthetic(3_000);
    let view = View::new(trace.events(), &names, &out);
    let full = timeline::render_view(&view, false);
    let folded = timeline::render_view(&view, true);
    assert!(folded.len() < full.len());
    let folds: Vec<&str> = folded.lines().filter(|l| l.trim_start().starts_with("... ")).collect();
    assert!(!folds.is_empty(), "a 3,000-event trace of mostly traffic folds somewhere");

    // Every event is either shown or counted in a fold line.
    let body = |t: &str| t.lines().skip_while(|l| !l.trim_start().starts_with("tick")).skip(1).count();
    let folded_events: usize = folds
        .iter()
        .map(|l| {
            let counts = l.split(": ").nth(1).expect("counts");
            counts
                .split(", ")
                .map(|part| part.split_whitespace().next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0))
                .sum::<usize>()
        })
        .sum();
    assert_eq!(body(&folded) - folds.len() + folded_events, body(&full));

    // Faults and states are never folded away.
    let marked = |t: &str| t.lines().filter(|l| l.starts_with(" !") || l.contains(" state ")).count();
    assert_eq!(marked(&folded), marked(&full));
    let faults = trace.events().iter().filter(|e| e.kind.is_fault()).count();
    assert_eq!(folded.lines().filter(|l| l.starts_with(" !")).count(), faults);

    // The last KEEP_TAIL lines are the race itself: shown in full, violation last.
    let tail: Vec<&str> = folded.lines().rev().take(KEEP_TAIL).collect();
    assert!(tail.iter().all(|l| !l.trim_start().starts_with("... ")));
    assert!(tail[0].starts_with(">>") && tail[0].contains("no_send_after_close"));
    assert_eq!(trace.events().last().map(|e| e.kind), Some(EventKind::Violation));
}
