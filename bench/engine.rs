//! The engine alone, no network: a pipelined batch of 16 commands through
//! `Engine::execute_batch`, as the server runs them under its lock. Catches per-command
//! overhead in dispatch that socket benchmarks blur; and single commands, as the wasm package
//! runs them. `cargo bench --bench engine`.

use std::collections::VecDeque;

use bytes::Bytes;
use cinnabar::{ClientInfo, Config, Engine};
use criterion::{criterion_group, criterion_main, Criterion};

fn argv(parts: &[&str]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p.as_bytes())).collect()
}

fn bench(c: &mut Criterion) {
    let mut e = Engine::new(Config::default(), 1, 1_767_225_600_000_000);
    let id = e.connect(ClientInfo::default(), 1_767_225_600_000_000);
    e.execute(id, argv(&["SET", "key:1", "xxx"]), 1_767_225_600_000_000);
    // A small hash (a listpack, as Redis keeps one under 128 fields) of 100 fields, as the
    // wasm benchmark's HSET workload builds.
    for f in 0..100 {
        e.execute(id, argv(&["HSET", "hash", &format!("f{f}"), "v"]), 1_767_225_600_000_000);
    }
    // Batches of 16, as the server runs a pipeline under its lock; and one command per batch,
    // as the wasm package's `db.command` runs them (`execute_args`, arguments by reference):
    // what the batch's own frame (taking the session out, stats, the end-of-batch work) adds
    // per command.
    let commands = [
        ("ping", &["PING"][..]),
        ("set", &["SET", "key:1", "xxx"][..]),
        ("get", &["GET", "key:1"][..]),
        ("incr", &["INCR", "counter"][..]),
        ("hset", &["HSET", "hash", "f77", "v"][..]),
    ];
    let mut g = c.benchmark_group("batch_of_16");
    for (name, cmd) in commands {
        let one = argv(cmd);
        g.bench_function(name, |b| {
            let mut out = 0usize;
            b.iter(|| {
                let mut q: VecDeque<Vec<Bytes>> = (0..16).map(|_| one.clone()).collect();
                e.execute_batch(id, &mut q, 1_767_225_600_000_000, |_, _| out += 1);
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("single");
    for (name, cmd) in commands {
        let one = argv(cmd);
        g.bench_function(name, |b| {
            let mut out = 0usize;
            b.iter(|| e.execute_args(id, &one, 1_767_225_600_000_000, |_, _| out += 1))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
