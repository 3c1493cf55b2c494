//! A short deterministic fuzz campaign (see `tests/fuzz_support`): mutated scenarios and
//! failure files through parse, build, run, replay, shrink and every report, with no panic.

mod fuzz_support;

use fuzz_support::{Corpus, campaign};
use std::path::Path;

/// Inputs of the campaign `cargo test` runs: enough to reach every stage many times, short
/// enough for a loaded two-core machine.
const INPUTS: u64 = 20_000;

#[test]
fn mutated_inputs_never_panic() {
    // A big stack: the inputs exercise parsers, not the test thread's 2 MiB.
    let report = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let corpus = Corpus::load(Path::new(env!("CARGO_MANIFEST_DIR")));
            assert!(corpus.seeds.len() > 40, "the corpus holds the shipped scenarios and failures");
            campaign(&corpus, 16, 0..INPUTS, false, |_| {})
        })
        .expect("spawns")
        .join()
        .expect("the campaign itself did not panic");
    eprintln!(
        "fuzz: {} inputs ({} ran) in {:.1}s, slowest #{} {:.0} ms",
        report.inputs,
        report.ran,
        report.elapsed.as_secs_f64(),
        report.slowest.0,
        report.slowest.1.as_secs_f64() * 1e3
    );
    assert!(report.ran > INPUTS / 20, "enough inputs get past the parser: {}", report.ran);
    assert!(report.panics.is_empty(), "panics (input, message): {:?}", &report.panics[..report.panics.len().min(10)]);
}
