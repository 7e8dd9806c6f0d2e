//! The listing contract: random tasks and queries, every page equal to
//! [`TaskQuery::apply`].

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::domain::query::{SortSpec, StatusFilter};
use crate::domain::{Cursor, Description, Priority, Status, Tag, Tags, Task, TaskQuery, UserId};
use crate::ports::{Change, TaskWrite};

use super::{RepoFixture, base_now, task};

/// A small deterministic generator (SplitMix64), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const TITLES: &[&str] = &[
    "Buy milk",
    "buy MILK",
    "Äpfel kaufen",
    "äpfel kaufen",
    "Zebra",
    "zebra",
    "straße fegen",
    "STRASSE",
    "İstanbul trip",
    "日本語の勉強",
    "🎉 party",
    "Ωmega",
    "a",
    "B",
    "call mom",
    "Call Mom",
    "émile",
    "Emile",
];
const DESCRIPTIONS: &[&str] = &["", "with milk", "Milk and honey", "über alles", "see İstanbul", "MOM said so"];
const TAGS: &[&str] = &["home", "work", "errand", "x-1", "y_2"];
const TEXTS: &[&str] = &["milk", "Äpfel", "ß", "i̇", "🎉", "mom", "e", "zz-nothing", "  Call  "];

/// Instants around `base_now()`: due dates, bounds and creation times, with repeats
/// and the overdue edges (exactly now, a day ago, a microsecond either side).
fn instants() -> Vec<DateTime<Utc>> {
    let now = base_now();
    let d = chrono::Duration::days;
    let us = chrono::Duration::microseconds;
    vec![
        now,
        now - us(1),
        now + us(1),
        now - d(1),
        now - d(1) + us(1),
        now - d(1) - us(1),
        now - d(3),
        now + d(2),
        now + d(40),
    ]
}

fn random_task(rng: &mut Rng, users: &[UserId]) -> Task {
    let times = instants();
    let mut t = task(rng.pick(users), rng.pick(TITLES));
    t.description = Description::parse(rng.pick(DESCRIPTIONS)).expect("description");
    t.priority = rng.pick(Priority::ALL);
    let n = rng.below(4);
    t.tags = Tags::parse((0..n).map(|_| rng.pick(TAGS)).collect::<Vec<_>>()).expect("tags");
    if rng.chance(70) {
        t.due_at = Some(rng.pick(&times));
        t.all_day = rng.chance(40);
        t.remind_at = rng.chance(30).then(|| rng.pick(&times));
    }
    if rng.chance(30) {
        t.status = Status::Completed;
        t.completed_at = Some(rng.pick(&times));
    }
    t.created_at = rng.pick(&times[..4]);
    t.updated_at = t.created_at;
    t
}

fn random_query(rng: &mut Rng, users: &[UserId]) -> TaskQuery {
    let times = instants();
    let nanos = chrono::Duration::nanoseconds(500);
    let now = if rng.chance(30) { base_now() + nanos } else { base_now() };
    let mut q = TaskQuery::new(rng.pick(users), now);
    q.status = rng.pick(&[StatusFilter::Pending, StatusFilter::Completed, StatusFilter::All]);
    q.priority = rng.chance(30).then(|| rng.pick(Priority::ALL));
    q.tag = rng.chance(25).then(|| Tag::parse(rng.pick(TAGS)).expect("tag"));
    q.text = if rng.chance(30) { TaskQuery::parse_text(rng.pick(TEXTS)).expect("text") } else { None };
    let bound = |rng: &mut Rng| {
        let t = rng.pick(&times);
        if rng.chance(30) { t + nanos } else { t }
    };
    q.due_after = rng.chance(25).then(|| bound(rng));
    q.due_before = rng.chance(25).then(|| bound(rng));
    q.overdue = rng.chance(20);
    let sorts = ["due_at", "-due_at", "priority", "-priority", "created_at", "-created_at", "title", "-title"];
    q.sort = SortSpec::parse(rng.pick(&sorts)).expect("sort");
    q.limit = 1 + rng.below(7) as u32;
    q
}

/// ~120 random tasks of two users; ~60 random queries (every filter, every sort in
/// both directions, limits 1 to 7), each paged through to its end by cursors: every
/// page equals what [`TaskQuery::apply`] gives on the same tasks.
pub async fn listing_matches_reference(f: &dyn RepoFixture) {
    let r = f.open().await;
    let mut rng = Rng(0x746f_646f_2d6c_6973);
    let users = [UserId::new(), UserId::new()];
    let tasks: Vec<Task> = (0..120).map(|_| random_task(&mut rng, &users)).collect();
    for chunk in tasks.chunks(12) {
        let change = Change { writes: chunk.iter().cloned().map(TaskWrite::Insert).collect(), ..Change::default() };
        r.tasks.commit(change).await.expect("insert tasks");
    }
    let started = Instant::now();
    let (mut pages, mut tried) = (0, BTreeSet::new());
    for i in 0..60 {
        let mut q = random_query(&mut rng, &users);
        tried.insert(q.sort.as_string());
        tried.insert(format!("status={:?}", q.status));
        for (filter, on) in [
            ("priority", q.priority.is_some()),
            ("tag", q.tag.is_some()),
            ("text", q.text.is_some()),
            ("due_after", q.due_after.is_some()),
            ("due_before", q.due_before.is_some()),
            ("overdue", q.overdue),
            ("now with nanoseconds", !q.now.timestamp_subsec_nanos().is_multiple_of(1000)),
        ] {
            if on {
                tried.insert(format!("filter {filter}"));
            }
        }
        for page in 0.. {
            assert!(page <= 130, "query {i}: the cursor does not advance: {q:?}");
            let got = r.tasks.list(&q).await.expect("list");
            let want = q.apply(&tasks);
            assert_eq!(got, want, "query {i}, page {page}: {q:?}");
            pages += 1;
            match got.next_cursor {
                Some(c) => q.cursor = Some(Cursor::decode(&c, q.sort).expect("our own cursor decodes")),
                None => break,
            }
        }
    }
    assert_eq!(
        tried.len(),
        8 + 3 + 7,
        "every sort in both directions, every status and every filter was tried: {tried:?}"
    );
    eprintln!("listing equivalence: 60 queries, {pages} pages over 120 tasks in {:?}", started.elapsed());
}
