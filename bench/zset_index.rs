//! The big sorted set's ordered index: Redis's skiplist with spans (ported in skiplist.rs)
//! against the B+tree with counted children that Cinnabar uses (src/ds/ostree.rs). Both give
//! O(log n) insert, delete, rank and select; this measures the constant factors. Run with
//! `cargo bench --bench zset_index`; results are recorded in docs/PERFORMANCE.md.

use std::sync::Arc;

use cinnabar::ds::ele::Ele;
use cinnabar::ds::ostree::OsTree;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

#[allow(dead_code)]
#[path = "skiplist.rs"]
mod skiplist;
use skiplist::SkipList;

type Key = (f64, Arc<[u8]>);

fn keys(n: usize) -> Vec<Key> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x % 10_000) as f64, Arc::from(format!("member:{}", i).into_bytes()))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    const N: usize = 100_000;
    let ks = keys(N);
    let mut g = c.benchmark_group("zset_index_100k");
    g.sample_size(10);
    g.bench_function("skiplist/insert", |b| {
        b.iter_batched(
            || ks.clone(),
            |ks| {
                let mut s = SkipList::new(1);
                for (sc, m) in ks {
                    s.insert(sc, m);
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    // The tree holds members as the zset does (`Ele`: inline up to 15 bytes, else shared).
    let eks: Vec<(f64, Ele)> = ks.iter().map(|(sc, m)| (*sc, Ele::new(m))).collect();
    g.bench_function("btree/insert", |b| {
        b.iter_batched(
            || eks.clone(),
            |ks| {
                let mut t = OsTree::new();
                for (sc, m) in ks {
                    t.insert(sc, m);
                }
                t
            },
            BatchSize::LargeInput,
        )
    });
    let mut s = SkipList::new(1);
    let mut t = OsTree::new();
    for (sc, m) in &ks {
        s.insert(*sc, m.clone());
        t.insert(*sc, Ele::new(m));
    }
    g.bench_function("skiplist/rank", |b| b.iter(|| ks.iter().step_by(10).map(|(sc, m)| s.rank(*sc, m)).sum::<usize>()));
    g.bench_function("btree/rank", |b| b.iter(|| ks.iter().step_by(10).map(|(sc, m)| t.rank(*sc, m)).sum::<usize>()));
    g.bench_function("skiplist/select", |b| b.iter(|| (1..N).step_by(10).map(|i| s.by_rank(i).unwrap() as usize).sum::<usize>()));
    g.bench_function("btree/select", |b| b.iter(|| (0..N - 1).step_by(10).map(|i| t.get(i).0 as usize).sum::<usize>()));
    g.bench_function("skiplist/range_100", |b| {
        b.iter(|| {
            let mut x = s.by_rank(N / 2);
            let mut sum = 0.0;
            for _ in 0..100 {
                let i = x.unwrap();
                sum += s.score(i);
                x = s.next(i);
            }
            sum
        })
    });
    g.bench_function("btree/range_100", |b| b.iter(|| t.iter_from(N / 2, false).take(100).map(|(sc, _)| sc).sum::<f64>()));
    g.bench_function("skiplist/delete_half", |b| {
        b.iter_batched(
            || s.clone(),
            |mut s| {
                for (sc, m) in ks.iter().step_by(2) {
                    s.delete(*sc, m);
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("btree/delete_half", |b| {
        b.iter_batched(
            || t.clone(),
            |mut t| {
                for (sc, m) in ks.iter().step_by(2) {
                    t.remove(*sc, m);
                }
                t
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
    assert_eq!(t.len(), N);
}

criterion_group!(benches, bench);
criterion_main!(benches);
