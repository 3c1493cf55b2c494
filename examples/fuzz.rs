//! The long fuzz campaign: `cargo run --release --example fuzz -- --inputs 10000000
//! [--seed S] [--from N] [--memory]`. Prints progress every 10,000 inputs and, at the end,
//! inputs, time, panics (with the input numbers that reproduce them), and the worst time and
//! peak memory of a single input (`--memory`, Linux).

#[path = "../tests/fuzz_support/mod.rs"]
mod fuzz_support;

use fuzz_support::{Corpus, campaign};
use std::path::Path;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut inputs, mut seed, mut from, mut memory) = (1_000_000u64, 16u64, 0u64, false);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> u64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{what} needs a number"))
        };
        match a.as_str() {
            "--inputs" => inputs = num("--inputs"),
            "--seed" => seed = num("--seed"),
            "--from" => from = num("--from"),
            "--memory" => memory = true,
            other => panic!("unknown argument {other}; expected --inputs N, --seed S, --from N, --memory"),
        }
    }
    let report = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let corpus = Corpus::load(Path::new(env!("CARGO_MANIFEST_DIR")));
            eprintln!("corpus: {} entries; inputs {from}..{}, seed {seed}", corpus.seeds.len(), from + inputs);
            let mut shown = 0;
            campaign(&corpus, seed, from..from + inputs, memory, |r| {
                // New panics as they are found: a long campaign may be stopped before its end.
                for (i, msg) in &r.panics[shown..] {
                    eprintln!("panic at input {i}: {msg}");
                }
                shown = r.panics.len();
                eprintln!(
                    "{} inputs, {} ran, {} panics, {:.0}s, slowest #{} {:.0} ms, peak #{} {} KiB",
                    r.inputs,
                    r.ran,
                    r.panics.len(),
                    r.elapsed.as_secs_f64(),
                    r.slowest.0,
                    r.slowest.1.as_secs_f64() * 1e3,
                    r.biggest.0,
                    r.biggest.1
                );
            })
        })
        .expect("spawns")
        .join()
        .expect("the campaign itself did not panic");
    println!(
        "fuzz: {} inputs ({} ran) in {:.1}s: {} panics; slowest input #{} {:.1} ms; highest peak RSS input #{} {} KiB",
        report.inputs,
        report.ran,
        report.elapsed.as_secs_f64(),
        report.panics.len(),
        report.slowest.0,
        report.slowest.1.as_secs_f64() * 1e3,
        report.biggest.0,
        report.biggest.1
    );
    for (i, msg) in report.panics.iter().take(20) {
        println!("  panic at input {i}: {msg}");
    }
    std::process::exit(if report.panics.is_empty() { 0 } else { 1 });
}
