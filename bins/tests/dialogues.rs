//! Scores `todo converse` (the conversation through the server's services, on an
//! in-memory store) against dialogues with known outcomes, as
//! `shared/tools/dialogue-eval` does: the final tasks must have exactly the
//! expected titles (as a multiset), and each expected field must match
//! (datetimes as instants, RRULEs as key/value sets, tags as sets, text
//! case-insensitively without surrounding punctuation).
//!
//! `chat-dialogues.jsonl` is the public specification (every dialogue must
//! pass); `chat-dialogues-more.jsonl` is our own wider set in the same conventions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use todo_core::domain::Timezone;

fn instant(v: &Value) -> Option<i64> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc).timestamp())
}

fn rrule(v: &Value) -> Option<BTreeMap<String, String>> {
    let s = v.as_str()?.trim().to_uppercase();
    let s = s.strip_prefix("RRULE:").unwrap_or(&s);
    let mut d: BTreeMap<String, String> = s
        .split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    for k in ["BYHOUR", "BYMINUTE", "BYSECOND", "WKST"] {
        d.remove(k);
    }
    if d.get("INTERVAL").map(String::as_str) == Some("1") {
        d.remove("INTERVAL");
    }
    if let Some(days) = d.get_mut("BYDAY") {
        *days = days.split(',').collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(",");
    }
    Some(d)
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.trim().trim_matches(|c| ".,!?;:".contains(c)).to_lowercase())
}

fn tags(v: &Value) -> Option<BTreeSet<String>> {
    v.as_array().map(|a| a.iter().filter_map(|t| t.as_str()).map(|t| t.to_lowercase().replace('#', "")).collect())
}

/// Port of the evaluator's `same()`.
fn same(key: &str, want: &Value, got: &Value) -> bool {
    match key {
        "due_at" | "remind_at" => match (instant(want), instant(got)) {
            (Some(a), Some(b)) => a == b,
            _ => want == got,
        },
        "recurrence" if want.is_string() => got.is_string() && rrule(want) == rrule(got),
        "tags" => got.is_array() && tags(want) == tags(got),
        _ if want.is_string() => text(want) == text(got),
        _ => want == got,
    }
}

/// Whether the dialogue's final tasks are the expected ones; the difference if not.
async fn score(row: &Value) -> Result<(), String> {
    let now: DateTime<Utc> = row["now"].as_str().unwrap().parse().unwrap();
    let tz = Timezone::parse(row["tz"].as_str().unwrap()).unwrap();
    let turns: Vec<String> = row["turns"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    let (replies, tasks) = todo_services::converse::converse(now, tz, &turns).await.map_err(|e| e.to_string())?;
    let got: Vec<Value> = tasks.iter().map(|t| serde_json::to_value(t).unwrap()).collect();
    let want = row["tasks"].as_array().unwrap();
    let titles = |ts: &[Value]| {
        let mut v: Vec<String> = ts.iter().filter_map(|t| text(&t["title"])).collect();
        v.sort();
        v
    };
    let fail = |why: &str| Err(format!("{why}: {turns:?} -> {got:?} replies {replies:?}"));
    if titles(want) != titles(&got) {
        return fail("titles differ");
    }
    let mut pool = got.clone();
    for w in want {
        let fields = w.as_object().unwrap();
        let hit = pool.iter().position(|g| {
            text(&g["title"]) == text(&w["title"])
                && fields.iter().filter(|(k, _)| *k != "title").all(|(k, v)| same(k, v, &g[k.as_str()]))
        });
        match hit {
            Some(i) => drop(pool.remove(i)),
            None => return fail(&format!("no task matches {w}")),
        }
    }
    Ok(())
}

async fn score_file(name: &str) -> (usize, Vec<String>) {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let rows: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut misses = Vec::new();
    for row in &rows {
        if let Err(e) = score(row).await {
            misses.push(e);
        }
    }
    (rows.len(), misses)
}

#[tokio::test]
async fn public_dialogues_all_pass() {
    let (n, misses) = score_file("chat-dialogues.jsonl").await;
    assert!(misses.is_empty(), "{} of {n} public dialogues fail:\n{}", misses.len(), misses.join("\n"));
}

#[tokio::test]
async fn more_dialogues_all_pass() {
    let (n, misses) = score_file("chat-dialogues-more.jsonl").await;
    assert!(misses.is_empty(), "{} of {n} dialogues fail:\n{}", misses.len(), misses.join("\n"));
}
