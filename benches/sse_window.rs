//! `record_event` with the seed's linear window against the indexed one, at max_tracked
//! 100, 1,000 and 10,000, in one group so that the ratios read off one run.
//!
//! Steady state, worst case for the scan: the window is full and every id is new (it left
//! the window `max_tracked` events ago), so the linear window compares against every id it
//! holds. Ids are `u64` (as the model keeps them) and `Arc<str>` (as the seed does); the
//! `Arc`s are made beforehand, so the numbers are the window's cost, not the allocator's.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use racelab::models::sse::tracker::EventTracker;
use racelab::models::sse::window::WindowKind;
use std::hash::Hash;
use std::hint::black_box;
use std::sync::Arc;

const SIZES: [usize; 3] = [100, 1_000, 10_000];

fn bench_with<K: Eq + Hash + Clone>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    key: &str,
    ids: &dyn Fn(usize) -> Vec<K>,
) {
    for max in SIZES {
        // Twice the window: an id comes round again only after it has been evicted.
        let pool = ids(2 * max);
        for (kind, name) in [(WindowKind::Linear, "linear"), (WindowKind::Indexed, "indexed")] {
            let mut tracker = EventTracker::<K>::new(kind, max);
            for id in &pool[..max] {
                tracker.record_event(id);
            }
            let mut next = max;
            c.bench_with_input(BenchmarkId::new(format!("{name}/{key}"), max), &max, |b, _| {
                b.iter(|| {
                    let id = &pool[next];
                    next = if next + 1 == pool.len() { 0 } else { next + 1 };
                    black_box(tracker.record_event(black_box(id)))
                })
            });
        }
    }
}

fn record_event(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_window_record_event");
    bench_with::<u64>(&mut group, "u64", &|n| (1..=n as u64).collect());
    bench_with::<Arc<str>>(&mut group, "arc_str", &|n| {
        (1..=n).map(|i| Arc::from(format!("01J8Z3-session-7f3a-event-{i:08}"))).collect()
    });
    group.finish();
}

criterion_group!(benches, record_event);
criterion_main!(benches);
