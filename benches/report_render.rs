//! Rendering a 10,000-event trace as a text timeline, a Mermaid diagram and an HTML report
//! (the view built once per iteration too, as `racelab explain` does).

use criterion::{Criterion, criterion_group, criterion_main};
use racelab::report::view::View;
use racelab::report::{html, mermaid, timeline};
use std::hint::black_box;

#[path = "../tests/report_support/mod.rs"]
mod report_support;

fn render(c: &mut Criterion) {
    let (trace, names, outcome) = report_support::synthetic(10_000);
    let mut g = c.benchmark_group("explain_10k_events");
    g.bench_function("view", |b| b.iter(|| black_box(View::new(trace.events(), &names, &outcome).shown.len())));
    g.bench_function("text", |b| {
        b.iter(|| black_box(timeline::render_view(&View::new(trace.events(), &names, &outcome), true).len()))
    });
    g.bench_function("mermaid", |b| {
        b.iter(|| black_box(mermaid::render(&View::new(trace.events(), &names, &outcome)).len()))
    });
    g.bench_function("html", |b| {
        b.iter(|| black_box(html::render(&View::new(trace.events(), &names, &outcome)).len()))
    });
    g.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
