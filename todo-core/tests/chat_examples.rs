//! Scores the chat interpreter against sentences with known answers, using the
//! same comparison as `shared/tools/chat-eval`: datetimes as instants, RRULEs as
//! key/value sets (ignoring BYHOUR/BYMINUTE/BYSECOND/WKST and INTERVAL=1), tags
//! as sets, text case-insensitively without surrounding punctuation, and only
//! the keys present in the expected arguments.
//!
//! `chat-examples.jsonl` is the public specification (every line must pass);
//! `chat-more.jsonl` is our own wider set in the same conventions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

fn norm_dt(v: &Value) -> Value {
    match v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
        Some(d) => Value::from(d.with_timezone(&Utc).timestamp()),
        None => v.clone(),
    }
}

fn norm_rrule(v: &Value) -> Option<BTreeMap<String, String>> {
    let s = v.as_str()?.trim();
    let s = if s.to_uppercase().starts_with("RRULE:") { &s[6..] } else { s };
    let mut d = BTreeMap::new();
    for part in s.split(';') {
        if let Some((k, val)) = part.split_once('=') {
            d.insert(k.trim().to_uppercase(), val.trim().to_uppercase());
        }
    }
    for k in ["BYHOUR", "BYMINUTE", "BYSECOND", "WKST"] {
        d.remove(k);
    }
    if d.get("INTERVAL").map(String::as_str) == Some("1") {
        d.remove("INTERVAL");
    }
    if let Some(days) = d.get_mut("BYDAY") {
        let set: BTreeSet<&str> = days.split(',').collect();
        *days = set.into_iter().collect::<Vec<_>>().join(",");
    }
    Some(d)
}

fn norm_text(v: &Value) -> Value {
    match v.as_str() {
        Some(s) => Value::from(s.trim().trim_matches(|c| ".,!?;:".contains(c)).to_lowercase()),
        None => v.clone(),
    }
}

fn tag_set(v: &Value) -> Option<BTreeSet<String>> {
    v.as_array().map(|a| {
        a.iter()
            .map(|t| match t.as_str() {
                Some(s) => s.to_lowercase().trim_start_matches('#').to_owned(),
                None => t.to_string().to_lowercase(),
            })
            .collect()
    })
}

/// Port of chat-eval's `same()`.
fn same(key: &str, want: &Value, got: &Value) -> bool {
    match key {
        "due_at" | "remind_at" | "due_after" | "due_before" => norm_dt(want) == norm_dt(got),
        "recurrence" => match (want.as_str(), got.as_str()) {
            (Some(_), Some(_)) => norm_rrule(want) == norm_rrule(got),
            _ => want == got,
        },
        "tags" | "tags_add" => got.is_array() && tag_set(want) == tag_set(got),
        "ref" => {
            let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
                return false;
            };
            let n = |m: &serde_json::Map<String, Value>| {
                m.iter().map(|(k, v)| (k.clone(), norm_text(v))).collect::<BTreeMap<_, _>>()
            };
            n(w) == n(g)
        }
        _ if want.is_string() => norm_text(want) == norm_text(got),
        _ => want == got,
    }
}

/// Runs every case of `file`; returns the failures, described.
fn score(file: &str) -> (usize, Vec<String>) {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut failures = Vec::new();
    let mut n = 0;
    for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        n += 1;
        let case: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", line_no + 1));
        let now: DateTime<Utc> = case["now"].as_str().and_then(|s| s.parse().ok()).expect("now");
        let tz: chrono_tz::Tz = case["tz"].as_str().and_then(|s| s.parse().ok()).expect("tz");
        let message = case["message"].as_str().expect("message");
        let got = serde_json::to_value(todo_core::chat::parse(message, now, tz)).expect("serializes");
        let empty = serde_json::Map::new();
        let args = got["args"].as_object().unwrap_or(&empty);
        let mut bad: Vec<&str> = Vec::new();
        if got["intent"] == case["intent"] {
            for (k, want) in case["args"].as_object().expect("args") {
                if !same(k, want, args.get(k).unwrap_or(&Value::Null)) {
                    bad.push(k);
                }
            }
        } else {
            bad.push("intent");
        }
        if !bad.is_empty() {
            failures.push(format!(
                "{file}:{} {message:?}\n    want {} {}\n    got  {}\n    bad {bad:?}",
                line_no + 1,
                case["intent"],
                case["args"],
                got
            ));
        }
    }
    (n, failures)
}

fn check(file: &str, min_percent: f64) {
    let (n, failures) = score(file);
    let ok = n - failures.len();
    let pct = 100.0 * ok as f64 / n.max(1) as f64;
    println!("{file}: chat accuracy {ok}/{n} ({pct:.1}%)");
    for f in &failures {
        println!("MISS {f}");
    }
    assert!(pct >= min_percent, "{file}: {ok}/{n} ({pct:.1}%) is below {min_percent}%:\n{}", failures.join("\n"));
}

#[test]
fn public_examples_all_pass() {
    check("chat-examples.jsonl", 100.0);
}

#[test]
fn more_examples_all_pass() {
    check("chat-more.jsonl", 100.0);
}
