//! A page of 50 tasks: built from a store row's owned strings (what every listing
//! does per row), and serialized to JSON (what every listing answers). Baseline in
//! the same run: a plain `#[derive(Serialize)]` struct of the same strings, the
//! least serde_json does for the same bytes.
//!
//! Run with: cargo bench -p todo-core --bench page

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use todo_core::domain::{Description, Priority, RepeatFrom, Status, Tags, Task, TaskId, TaskTitle, UserId};

const N: usize = 50;

/// The text columns of one row, as a store reads them.
#[derive(Clone)]
struct Row {
    title: String,
    description: String,
    status: String,
    priority: String,
    tags: Vec<String>,
}

fn rows() -> Vec<Row> {
    (0..N)
        .map(|i| Row {
            title: format!("task {i}: call the plumber about the kitchen sink"),
            description: if i % 7 == 0 { "with some notes".into() } else { String::new() },
            status: "pending".into(),
            priority: ["low", "medium", "high"][i % 3].into(),
            tags: ["work", "home", "errand"][..i % 4].iter().map(|s| (*s).to_owned()).collect(),
        })
        .collect()
}

fn task(r: Row, id: TaskId, user: UserId, now: DateTime<Utc>) -> Task {
    Task {
        id,
        user_id: user,
        title: TaskTitle::try_from(r.title).unwrap(),
        description: Description::try_from(r.description).unwrap(),
        status: Status::parse(&r.status).unwrap(),
        priority: Priority::parse(&r.priority).unwrap(),
        tags: Tags::from_strings(r.tags).unwrap(),
        due_at: Some(now),
        all_day: false,
        remind_at: None,
        recurrence: None,
        repeat_from: RepeatFrom::Due,
        series_id: None,
        created_at: now,
        updated_at: now,
        completed_at: None,
        version: 1,
    }
}

/// The same fields as plain strings: what a derive writes with no newtypes.
#[derive(Serialize)]
struct Plain {
    id: String,
    user_id: String,
    title: String,
    description: String,
    status: String,
    priority: String,
    tags: Vec<String>,
    due_at: Option<String>,
    all_day: bool,
    remind_at: Option<String>,
    recurrence: Option<String>,
    repeat_from: String,
    series_id: Option<String>,
    created_at: String,
    updated_at: String,
    completed_at: Option<String>,
    version: i64,
}

fn plain(t: &Task) -> Plain {
    let time = |d: &DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    Plain {
        id: t.id.to_string(),
        user_id: t.user_id.to_string(),
        title: t.title.as_str().to_owned(),
        description: t.description.as_str().to_owned(),
        status: t.status.to_string(),
        priority: t.priority.to_string(),
        tags: t.tags.to_vec(),
        due_at: t.due_at.as_ref().map(time),
        all_day: t.all_day,
        remind_at: None,
        recurrence: None,
        repeat_from: t.repeat_from.to_string(),
        series_id: None,
        created_at: time(&t.created_at),
        updated_at: time(&t.updated_at),
        completed_at: None,
        version: t.version,
    }
}

fn bench(c: &mut Criterion) {
    let (user, now, id) = (UserId::new(), Utc::now(), TaskId::new());
    let rows = rows();
    let tasks: Vec<Task> = rows.iter().cloned().map(|r| task(r, id, user, now)).collect();
    let plains: Vec<Plain> = tasks.iter().map(plain).collect();
    let mut group = c.benchmark_group("page_of_50");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("tasks_from_row_strings", |b| {
        b.iter_batched(
            || rows.clone(),
            |rows| rows.into_iter().map(|r| task(r, id, user, now)).collect::<Vec<_>>(),
            criterion::BatchSize::SmallInput,
        );
    });
    group.bench_function("baseline_clone_row_strings", |b| b.iter(|| std::hint::black_box(rows.clone())));
    group.bench_function("serialize_tasks", |b| b.iter(|| serde_json::to_vec(std::hint::black_box(&tasks)).unwrap()));
    group.bench_function("baseline_serialize_plain_structs", |b| {
        b.iter(|| serde_json::to_vec(std::hint::black_box(&plains)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
