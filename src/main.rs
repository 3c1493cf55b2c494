use racelab::explore::run::{judge, run_variant};
use racelab::scenario::Scenario;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let s = Scenario::load(&path).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    for v in &s.variants {
        let r = run_variant(&s, v, s.seeds.clone()).unwrap();
        println!(
            "{v:15} {:?} {:.0} runs/s {:?}",
            r.failures,
            r.runs_per_sec,
            judge(&s, &r)
        );
        if let Some(f) = &r.first_failure {
            println!("   {}", f.verdict.summary());
        }
    }
}
