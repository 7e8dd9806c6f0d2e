//! Filters over HTTP: `GET /api/v1/tasks?filter=` with sort, cursors and lists;
//! bad filters of every shape are 400 `invalid_filter` with a span; saved filters
//! (`/api/v1/filters`) and their tasks, isolated per user; and fuzzed filters
//! never get a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_tests::{Backend, TestApp, on_every_backend};

on_every_backend!(
    filter_lists_sorts_and_pages,
    shorthands_and_filters_combine,
    bad_filters_are_400_with_a_span,
    saved_filters_round_trip,
    saved_filters_are_isolated,
    chat_lists_saves_and_shows_filters,
);

fn titles(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect()
}

/// `/api/v1/tasks?filter=<q>&<extra>`, URL-encoded.
fn tasks_path(q: &str, extra: &str) -> String {
    let url = reqwest::Url::parse_with_params("http://x/api/v1/tasks", &[("filter", q)]).expect("a url");
    let sep = if extra.is_empty() { "" } else { "&" };
    format!("{}?{}{sep}{extra}", url.path(), url.query().unwrap_or_default())
}

/// Tasks relative to now, so that today and overdue mean what the test says.
async fn seed(app: &TestApp, t: &str) {
    let now = chrono::Utc::now();
    let at = |hours: i64| (now + chrono::Duration::hours(hours)).to_rfc3339();
    for (title, due, priority, tags) in [
        ("late report", Some(at(-30)), "high", vec!["work"]),
        ("late chore", Some(at(-30)), "low", vec!["work"]),
        ("far review", Some(at(24 * 20)), "high", vec!["work"]),
        ("home thing", Some(at(-2)), "medium", vec!["home"]),
        ("no date", None, "medium", vec!["work"]),
        ("home office chair", None, "medium", vec!["home-office"]),
    ] {
        let mut body = json!({"title": title, "priority": priority, "tags": tags});
        if let Some(d) = due {
            body["due_at"] = json!(d);
        }
        app.create_task(t, body).await;
    }
}

async fn filter_lists_sorts_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    seed(&app, &t).await;
    let page = app.get(&tasks_path("(today | overdue) & #work & !p3", ""), &t).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(titles(&page.body), ["late report"]);
    assert_eq!(page.body["lists"], json!(["(today | overdue) & #work & !p3"]));

    // Sort and cursors work as for the plain listing.
    let mut seen = Vec::new();
    let mut path = tasks_path("#work | #\"home office\"", "sort=title&limit=2");
    loop {
        let page = app.get(&path, &t).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        seen.extend(titles(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = tasks_path("#work | #\"home office\"", &format!("sort=title&limit=2&cursor={c}")),
            None => break,
        }
    }
    assert_eq!(seen, ["far review", "home office chair", "late chore", "late report", "no date"]);

    // Several lists: one at a time.
    let q = "overdue & #work, no date";
    let first = app.get(&tasks_path(q, "sort=title"), &t).await;
    assert_eq!(first.body["lists"], json!(["overdue & #work", "no date"]));
    assert_eq!(titles(&first.body), ["late chore", "late report"]);
    let second = app.get(&tasks_path(q, "list=1&sort=title"), &t).await;
    assert_eq!(titles(&second.body), ["home office chair", "no date"]);
    let bad = app.get(&tasks_path(q, "list=2"), &t).await;
    assert_eq!((bad.status, bad.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert_eq!(bad.body["error"]["field"], "list");

    // A status in the filter replaces the default.
    let done = app.get("/api/v1/tasks?filter=completed", &t).await;
    assert_eq!(titles(&done.body), Vec::<String>::new());
}

async fn shorthands_and_filters_combine(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    seed(&app, &t).await;
    // The old parameters alone still work, and narrow a filter when given with it.
    let work = app.get("/api/v1/tasks?tag=work&sort=title", &t).await;
    assert_eq!(titles(&work.body), ["far review", "late chore", "late report", "no date"]);
    assert!(work.body.get("lists").is_none(), "no lists without a filter");
    let both = app.get(&tasks_path("overdue", "priority=high"), &t).await;
    assert_eq!(titles(&both.body), ["late report"]);
    let same = app.get(&tasks_path("overdue & p1", ""), &t).await;
    assert_eq!(titles(&same.body), titles(&both.body), "priority=high is the shorthand of p1");
    let overdue = app.get("/api/v1/tasks?overdue=true&sort=title", &t).await;
    let as_filter = app.get(&tasks_path("overdue", "sort=title"), &t).await;
    assert_eq!(titles(&overdue.body), titles(&as_filter.body), "overdue=true is the shorthand of overdue");
    // status= with a filter narrows it too.
    let all = app.get(&tasks_path("#home", "status=all"), &t).await;
    assert_eq!(titles(&all.body), ["home thing"]);
}

/// Bad filters of every shape: 400 `invalid_filter`, the message says what was
/// expected where, and `span` points at it (in characters).
async fn bad_filters_are_400_with_a_span(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    for (q, span, says) in [
        ("due before: ", [12, 12], "expected a date after 'due before:' at 12"),
        ("today &", [7, 7], "expected a term after '&'"),
        ("(today", [6, 6], "expected ')'"),
        ("today)", [5, 6], "unmatched ')'"),
        ("wrok", [0, 4], "unknown term 'wrok'"),
        ("#", [1, 1], "expected a tag name"),
        ("#wörk", [1, 5], "'ö' is not allowed"),
        ("search:", [7, 7], "expected a text"),
        ("/unclosed", [9, 9], "expected '/'"),
        ("\"quoted\"", [0, 1], "quoted text alone"),
        ("p7", [0, 2], "three priorities"),
        ("priority: extreme", [10, 17], "expected a priority"),
        ("status: maybe", [8, 13], "expected a status"),
        ("due < someday", [6, 6], "expected a date after 'due <'"),
        ("due before: in 900 years", [12, 24], "out of range"),
        ("0 days", [0, 1], "number of days"),
        ("tags in (a, b", [13, 13], "expected ',' or ')'"),
        ("done = maybe", [7, 12], "expected true or false"),
        ("at 5pm", [0, 6], "is a time, not a day"),
        ("today, ", [7, 7], "expected a filter after ','"),
        ("(a, b)", [1, 2], "unknown term 'a'"),
        ("", [0, 0], "the filter is empty"),
        ("ünknown &&", [0, 7], "unknown term 'ünknown'"),
        ("search: a\0b", [9, 10], "NUL character"),
    ] {
        let a = app.get(&tasks_path(q, ""), &t).await;
        assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, "invalid_filter"), "{q:?}: {:?}", a.body);
        assert_eq!(a.body["error"]["span"], json!(span), "{q:?}: {:?}", a.body);
        let message = a.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{q:?}: {message:?} should say {says:?}");
        // The same query saved is refused the same way.
        let saved = app.post("/api/v1/filters", &t, json!({"name": "x", "query": q})).await;
        assert_eq!((saved.status, saved.code()), (StatusCode::BAD_REQUEST, "invalid_filter"), "{q:?}");
        assert_eq!(saved.body["error"]["span"], json!(span), "{q:?}");
    }
    let long = "p1 | ".repeat(300);
    let a = app.get(&tasks_path(&long, ""), &t).await;
    assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, "invalid_filter"));
}

async fn saved_filters_round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    seed(&app, &t).await;
    let created = app
        .post("/api/v1/filters", &t, json!({"name": " Work today ", "query": "(today | overdue) & #work & !p3"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let f = created.body;
    assert_eq!(f["name"], "Work today");
    assert_eq!(f["query"], "(today | overdue) & #work & !p3");
    let id = f["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/filters/{id}");

    assert_eq!(app.get(&path, &t).await.body, f);
    let tasks = app.get(&format!("{path}/tasks"), &t).await;
    assert_eq!(tasks.status, StatusCode::OK, "{:?}", tasks.body);
    assert_eq!(titles(&tasks.body), ["late report"]);

    // Names are unique per user regardless of case and spacing.
    let dup = app.post("/api/v1/filters", &t, json!({"name": "work   TODAY", "query": "p1"})).await;
    assert_eq!((dup.status, dup.code()), (StatusCode::CONFLICT, "conflict"));
    let long = app.post("/api/v1/filters", &t, json!({"name": "x".repeat(101), "query": "p1"})).await;
    assert_eq!((long.status, long.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    let extra = app.post("/api/v1/filters", &t, json!({"name": "y", "query": "p1", "colour": "red"})).await;
    assert_eq!(extra.status, StatusCode::UNPROCESSABLE_ENTITY);

    let other = app.post("/api/v1/filters", &t, json!({"name": "all work", "query": "#work, no date"})).await;
    assert_eq!(other.status, StatusCode::CREATED);
    let list = app.get("/api/v1/filters", &t).await;
    let names: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["all work", "Work today"]);
    let other_id = other.body["id"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/filters/{other_id}/tasks?list=1&sort=title"), &t).await;
    assert_eq!(titles(&second.body), ["home office chair", "no date"]);
    assert_eq!(second.body["lists"], json!(["#work", "no date"]));

    // Patch: rename, change the query; a bad query is a 400 with its span.
    let patched = app.call(Method::PATCH, &path, Some(&t), Some(json!({"query": "overdue & #work"}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["name"], "Work today");
    let tasks = app.get(&format!("{path}/tasks?sort=title"), &t).await;
    assert_eq!(titles(&tasks.body), ["late chore", "late report"]);
    let bad = app.call(Method::PATCH, &path, Some(&t), Some(json!({"query": "overdue &"}))).await;
    assert_eq!((bad.status, bad.body["error"]["span"].clone()), (StatusCode::BAD_REQUEST, json!([9, 9])));
    let clash = app.call(Method::PATCH, &path, Some(&t), Some(json!({"name": "ALL WORK"}))).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);

    // Delete.
    assert_eq!(app.call(Method::DELETE, &path, Some(&t), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &t).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("{path}/tasks"), &t).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/filters/not-a-uuid", &t).await.code(), "bad_request");
}

/// User B never sees or touches user A's filters, and A's filter run by anyone
/// shows only its runner's tasks.
async fn saved_filters_are_isolated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    app.create_task(&a, json!({"title": "alice's secret", "tags": ["work"]})).await;
    app.create_task(&b, json!({"title": "bob's chore", "tags": ["work"]})).await;
    let f = app.post("/api/v1/filters", &a, json!({"name": "work", "query": "#work"})).await.body;
    let path = format!("/api/v1/filters/{}", f["id"].as_str().unwrap());

    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::GET, "/tasks", None),
        (Method::PATCH, "", Some(json!({"query": "status:all"}))),
        (Method::PATCH, "", Some(json!({"name": "mine now"}))),
        (Method::DELETE, "", None),
    ] {
        let res = app.call(method.clone(), &format!("{path}{suffix}"), Some(&b), body).await;
        assert_eq!((res.status, res.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {suffix}: {:?}", res.body);
    }
    assert_eq!(app.get("/api/v1/filters", &b).await.body["items"], json!([]), "B lists none of A's filters");
    assert_eq!(app.get(&path, &a).await.body, f, "A's filter is unchanged");
    // B may use the same name; each runs over their own tasks only.
    let bf = app.post("/api/v1/filters", &b, json!({"name": "work", "query": "#work | status:all"})).await;
    assert_eq!(bf.status, StatusCode::CREATED);
    let bpath = format!("/api/v1/filters/{}/tasks", bf.body["id"].as_str().unwrap());
    assert_eq!(titles(&app.get(&bpath, &b).await.body), ["bob's chore"]);
    assert_eq!(titles(&app.get(&format!("{path}/tasks"), &a).await.body), ["alice's secret"]);
    assert_eq!(app.get(&bpath, &a).await.status, StatusCode::NOT_FOUND);
    for q in ["status:all", "#work | !#work", "search: secret", "no date"] {
        assert_eq!(
            titles(&app.get(&tasks_path(q, ""), &b).await.body),
            if q == "search: secret" { Vec::<String>::new() } else { vec!["bob's chore".to_owned()] },
            "B's {q:?} lists nothing of A's"
        );
    }
}

/// Fuzzed filters through the HTTP API: every answer is a 200 or a 400
/// `invalid_filter` with a span inside the query; never a 500. The memory backend
/// takes 100,000; SQLite and PostgreSQL 10,000 each.
async fn fuzz(backend: Backend, n: usize) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    seed(&app, &t).await;
    let started = std::time::Instant::now();
    let (mut ok, mut refused) = (0, 0);
    let queries = todo_core::contract::filters::fuzz_queries(0x6170_6966_757a, n);
    let client = reqwest::Client::new();
    for chunk in queries.chunks(16) {
        let answers = futures::future::join_all(chunk.iter().map(|q| {
            let client = client.clone();
            let url = app.url(&tasks_path(q, ""));
            let t = t.clone();
            async move { (q, client.get(url).bearer_auth(t).send().await.expect("a response")) }
        }))
        .await;
        for (q, res) in answers {
            let status = res.status();
            let body: Value = res.json().await.unwrap_or_else(|e| panic!("{q:?}: {status}: not JSON: {e}"));
            match status {
                StatusCode::OK => ok += 1,
                StatusCode::BAD_REQUEST => {
                    refused += 1;
                    let span = &body["error"]["span"];
                    let chars = q.chars().count() as u64;
                    assert!(
                        span[0].as_u64() <= span[1].as_u64() && span[1].as_u64().is_some_and(|e| e <= chars),
                        "{q:?}: {body}"
                    );
                }
                other => panic!("{q:?}: {other}: {body}"),
            }
        }
    }
    eprintln!(
        "fuzz over HTTP ({backend:?}): {n} filters, {ok} listed, {refused} refused, in {:.1?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_filters_never_500_memory() {
    fuzz(Backend::Memory, 100_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_filters_never_500_sqlite() {
    fuzz(Backend::Sqlite, 10_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_filters_never_500_postgres() {
    fuzz(Backend::Postgres, 10_000).await;
}

/// Chat: a listing the fixed arguments cannot say runs as a filter; "save this as"
/// saves the last listing's query; "show my ... list" shows a saved filter.
async fn chat_lists_saves_and_shows_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    seed(&app, &t).await;
    let say = |conversation: Option<String>, message: &str| {
        let mut body = json!({"message": message});
        if let Some(c) = conversation {
            body["conversation_id"] = json!(c);
        }
        app.post("/api/v1/chat", &t, body)
    };
    let a = say(None, "show (overdue or today) #work").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let action = &a.body["actions"][0];
    assert_eq!(action["args"]["filter"], "(overdue | today) & #work");
    assert_eq!(action["result"]["filter"], "(overdue | today) & #work");
    let listed: Vec<&str> =
        action["result"]["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(listed, ["late report", "late chore"]);
    let reply = a.body["reply"].as_str().unwrap();
    assert!(reply.starts_with("2 tasks match (overdue | today) & #work:"), "{reply}");
    let conv = a.body["conversation_id"].as_str().unwrap().to_owned();

    let saved = say(Some(conv.clone()), "save this as 'work today'").await;
    assert_eq!(saved.body["actions"][0]["tool"], "save_filter", "{:?}", saved.body);
    assert!(saved.body["reply"].as_str().unwrap().contains("'work today'"), "{:?}", saved.body);
    let filters = app.get("/api/v1/filters", &t).await;
    assert_eq!(filters.body["items"][0]["name"], "work today");
    assert_eq!(filters.body["items"][0]["query"], "(overdue | today) & #work");

    // A new conversation: the saved list by name; then its numbers work.
    let shown = say(None, "show my work today list").await;
    let reply = shown.body["reply"].as_str().unwrap();
    assert!(reply.starts_with("Your list 'work today' has 2 tasks:"), "{reply}");
    let conv2 = shown.body["conversation_id"].as_str().unwrap().to_owned();
    let done = say(Some(conv2), "complete task 1").await;
    assert!(done.body["reply"].as_str().unwrap().contains("late report"), "{:?}", done.body);

    // Fixed arguments are saved with their relative dates kept relative.
    let c = say(None, "what's due before friday in #home").await;
    let c = c.body["conversation_id"].as_str().unwrap().to_owned();
    let s = say(Some(c), "save this list as home soon").await;
    assert!(s.body["reply"].as_str().unwrap().contains("due < \"friday\" & #home"), "{:?}", s.body);

    // Nothing to save yet; no such list.
    let none = say(None, "save this as nothing").await;
    assert!(none.body["reply"].as_str().unwrap().starts_with("Show a list first"), "{:?}", none.body);
    let missing = say(None, "show my \"zzz qqq\" list").await;
    assert!(missing.body["reply"].as_str().unwrap().contains("no saved list called"), "{:?}", missing.body);
}
