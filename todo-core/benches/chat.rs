//! Throughput of the chat interpreter over the public example sentences.
//!
//! Run with: cargo bench -p todo-core --bench chat

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;

fn examples() -> Vec<(String, DateTime<Utc>, chrono_tz::Tz)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/chat-examples.jsonl");
    let text = std::fs::read_to_string(path).expect("read chat-examples.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a json line");
            let now = v["now"].as_str().and_then(|s| s.parse().ok()).expect("now");
            let tz = v["tz"].as_str().and_then(|s| s.parse().ok()).expect("tz");
            (v["message"].as_str().expect("message").to_owned(), now, tz)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cases = examples();
    let mut group = c.benchmark_group("chat");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.bench_function("parse_examples", |b| {
        b.iter(|| {
            for (msg, now, tz) in &cases {
                std::hint::black_box(todo_core::chat::parse(std::hint::black_box(msg), *now, *tz));
            }
        });
    });
    // Baseline in the same run: the least any interpreter does (lowercase, split into words).
    group.bench_function("baseline_lowercase_split", |b| {
        b.iter(|| {
            for (msg, _, _) in &cases {
                std::hint::black_box(std::hint::black_box(msg).to_lowercase().split_whitespace().count());
            }
        });
    });
    let long = "add team meeting tomorrow at 3pm and remind me 15 minutes before ".repeat(30);
    let (_, now, tz) = cases[0];
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_2000_chars", |b| {
        b.iter(|| todo_core::chat::parse(std::hint::black_box(&long), now, tz));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
