//! Conversations that remember, through the API: follow-ups across a restart and
//! through a second chat-api instance on the same database, "it" that never
//! reaches another user's task, and "undo" of every kind of change as an
//! ordinary event on the log, in the audit trail and on the live stream.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_tests::{AppOptions, Backend, Connected, TestApp, eventually, on_every_backend, on_every_log};
use tokio_tungstenite::tungstenite;

on_every_backend!(
    follow_ups_survive_restarts_and_instances,
    it_never_reaches_another_users_task,
    follow_ups_after_filter_listings
);
on_every_log!(undo_of_every_change_is_an_audited_event);

async fn say(app: &TestApp, t: &str, conversation: Option<&str>, message: &str) -> Value {
    let mut body = json!({"message": message});
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    let a = app.post("/api/v1/chat", t, body).await;
    assert_eq!(a.status, StatusCode::OK, "{message}: {:?}", a.body);
    a.body
}

/// Another chat-api instance on `app`'s database (the memory backend: its ports).
async fn second_instance(app: &TestApp) -> TestApp {
    let opts = AppOptions { api_only: true, ..AppOptions::default() };
    match app.env.database_url() {
        Some(_) => TestApp::on_env(app.env.clone(), opts).await,
        None => {
            let connected =
                Connected { ports: app.ports.clone(), relay: None, sql_log: None, backing: app.backing.clone() };
            TestApp::serve(connected, app.env.clone(), opts).await
        }
    }
}

async fn task(app: &TestApp, t: &str, id: &str) -> Value {
    let a = app.get(&format!("/api/v1/tasks/{id}"), t).await;
    assert_eq!(a.status, StatusCode::OK, "{id}: {:?}", a.body);
    a.body
}

fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap_or_else(|| panic!("an instant: {v}")).parse().expect("RFC 3339")
}

async fn follow_ups_survive_restarts_and_instances(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    let r = say(&app, &t, None, "add call mom tomorrow at 5pm").await;
    let conv = r["conversation_id"].as_str().unwrap().to_owned();
    let added = r["actions"][0]["result"].clone();
    let id = added["id"].as_str().unwrap().to_owned();
    let five = instant(&added["due_at"]);

    // What "it" means survives a restart of the process.
    let app = app.restart().await;
    let r = say(&app, &t, Some(&conv), "actually make it 6pm").await;
    assert_eq!(r["actions"][0]["tool"], "update_task", "{r}");
    assert_eq!(r["actions"][0]["args"]["ref"], json!({"id": id}), "'it' resolved to the task: {r}");
    let six = five + chrono::Duration::hours(1);
    assert_eq!(instant(&task(&app, &t, &id).await["due_at"]), six, "a time alone keeps the date");

    // A second chat-api instance continues the same conversation.
    let other = second_instance(&app).await;
    say(&other, &t, Some(&conv), "and remind me an hour before").await;
    assert_eq!(instant(&task(&app, &t, &id).await["remind_at"]), five);
    // "undo" walks back through both instances' changes, oldest last.
    say(&app, &t, Some(&conv), "undo").await;
    assert_eq!(task(&app, &t, &id).await["remind_at"], Value::Null);
    say(&other, &t, Some(&conv), "undo").await;
    assert_eq!(instant(&task(&app, &t, &id).await["due_at"]), five);

    // Turns of one conversation sent at once to both instances: each runs on what
    // the other left (a turn that lost the race is read again), none is lost.
    let (a, b) =
        tokio::join!(say(&app, &t, Some(&conv), "add buy milk"), say(&other, &t, Some(&conv), "add buy bread"));
    assert_eq!(a["actions"][0]["tool"], "add_task");
    assert_eq!(b["actions"][0]["tool"], "add_task");
    let msgs = app.get(&format!("/api/v1/conversations/{conv}/messages"), &t).await;
    assert_eq!(msgs.body["items"].as_array().unwrap().len(), 14, "seven turns, two messages each");
    say(&other, &t, Some(&conv), "undo").await;
    say(&app, &t, Some(&conv), "undo").await;
    let left = app.get("/api/v1/tasks?status=all", &t).await;
    let titles: Vec<&str> =
        left.body["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["call mom"], "both adds undone, and nothing else");
}

async fn it_never_reaches_another_users_task(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    let r = say(&app, &a, None, "add secret plan tomorrow at 5pm #work").await;
    let a_conv = r["conversation_id"].as_str().unwrap().to_owned();
    let id = r["actions"][0]["result"]["id"].as_str().unwrap().to_owned();

    // Bob cannot continue Alice's conversation, so never gets her "it".
    for message in ["delete it", "actually make it 6pm", "undo", "yes"] {
        let res = app.post("/api/v1/chat", &b, json!({"message": message, "conversation_id": a_conv})).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{message}");
    }
    // In his own conversation "it" is nothing: he is asked, nothing runs.
    let r = say(&app, &b, None, "delete it").await;
    let b_conv = r["conversation_id"].as_str().unwrap().to_owned();
    for message in [
        "delete it",
        "mark it as done",
        "actually make it 6pm",
        "remind me an hour before",
        "tag it #mine",
        "skip it",
        "delete them",
        &format!("delete {id}"),
        "undo",
        "complete all my #work tasks",
        "yes",
        "delete everything",
        "yes",
    ] {
        let r = say(&app, &b, Some(&b_conv), message).await;
        let ran: Vec<&Value> =
            r["actions"].as_array().unwrap().iter().filter(|a| !a["result"]["items"].is_array()).collect();
        assert!(ran.is_empty(), "{message}: nothing ran for bob: {r}");
    }
    let mine = task(&app, &a, &id).await;
    assert_eq!((mine["status"].as_str(), mine["version"].as_i64()), (Some("pending"), Some(1)), "{mine}");
    // Her own follow-up still works.
    let r = say(&app, &a, Some(&a_conv), "mark it as done").await;
    assert_eq!(r["actions"][0]["result"]["status"], "completed", "{r}");
}

fn ids(listing: &Value) -> Vec<String> {
    let items = listing["actions"][0]["result"]["items"].as_array().unwrap_or_else(|| panic!("a listing: {listing}"));
    items.iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

/// A listing made by a filter query or a saved list leaves its order in the
/// conversation like any other: "the second one", "them", "the last one" and a
/// bulk action over a filter query all work on what was shown.
async fn follow_ups_after_filter_listings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    let now = chrono::Utc::now();
    let at = |hours: i64| (now + chrono::Duration::hours(hours)).to_rfc3339();
    for (title, due, priority, tag) in [
        ("late report", at(-30), "high", "work"),
        ("late chore", at(-30), "low", "work"),
        ("far review", at(24 * 20), "high", "work"),
        ("home thing", at(-2), "medium", "home"),
    ] {
        app.create_task(&t, json!({"title": title, "due_at": due, "priority": priority, "tags": [tag]})).await;
    }

    let r = say(&app, &t, None, "show (overdue or today) #work").await;
    assert_eq!(r["actions"][0]["args"]["filter"], "(overdue | today) & #work", "{r}");
    let conv = r["conversation_id"].as_str().unwrap().to_owned();
    let work = ids(&r);
    assert_eq!(work.len(), 2, "{r}");
    let r = say(&app, &t, Some(&conv), "mark the second one as done").await;
    assert_eq!(r["actions"][0]["tool"], "complete_task", "{r}");
    assert_eq!(r["actions"][0]["result"]["id"], work[1].as_str(), "the second task shown: {r}");
    say(&app, &t, Some(&conv), "undo").await;
    assert_eq!(task(&app, &t, &work[1]).await["status"], "pending");

    // "them": every task of a filter listing, once each.
    let r = say(&app, &t, Some(&conv), "show #work or #home tasks").await;
    assert_eq!(r["actions"][0]["args"]["filter"], "#work | #home", "{r}");
    let both = ids(&r);
    assert_eq!(both.len(), 4, "{r}");
    let r = say(&app, &t, Some(&conv), "tag them #q4").await;
    let tagged: Vec<&str> =
        r["actions"].as_array().unwrap().iter().map(|a| a["result"]["id"].as_str().unwrap()).collect();
    assert_eq!(tagged, both, "{r}");
    for id in &both {
        let tags = task(&app, &t, id).await["tags"].clone();
        assert!(tags.as_array().unwrap().iter().any(|g| g == "q4"), "{id}: {tags}");
    }
    // Follow-ups in between: "save this as" still saves the last listing.
    let r = say(&app, &t, Some(&conv), "save this as 'all of q4'").await;
    assert_eq!(r["actions"][0]["tool"], "save_filter", "{r}");
    assert_eq!(r["actions"][0]["result"]["query"], "#work | #home", "{r}");

    // A saved list by name, in a new conversation: its order is what counts.
    let r = say(&app, &t, None, "show my all of q4 list").await;
    let conv = r["conversation_id"].as_str().unwrap().to_owned();
    let saved = ids(&r);
    assert_eq!(saved, both, "{r}");
    let last = saved.last().unwrap();
    let r = say(&app, &t, Some(&conv), "delete the last one").await;
    assert_eq!(r["actions"][0]["result"]["deleted"], last.as_str(), "{r}");
    assert_eq!(app.get(&format!("/api/v1/tasks/{last}"), &t).await.status, StatusCode::NOT_FOUND);
    say(&app, &t, Some(&conv), "undo").await;
    assert_eq!(task(&app, &t, last).await["id"], last.as_str(), "restored with its id");

    // A bulk action over a filter query: asked first, done on "yes".
    let r = say(&app, &t, None, "complete all (overdue or today) #work tasks").await;
    let conv = r["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(r["actions"][0]["tool"], "complete_tasks", "{r}");
    assert!(r["reply"].as_str().unwrap().starts_with("That would mark 2 tasks as done"), "{r}");
    for id in &work {
        assert_eq!(task(&app, &t, id).await["status"], "pending", "nothing done before the yes");
    }
    let r = say(&app, &t, Some(&conv), "yes").await;
    assert_eq!(r["actions"].as_array().unwrap().len(), 2, "{r}");
    for id in &work {
        assert_eq!(task(&app, &t, id).await["status"], "completed");
    }
}

/// The CloudEvents types recorded for `id` in the audit trail, oldest first,
/// with the `change_type` of live-update events.
async fn audited(app: &TestApp, t: &str, id: &str) -> Vec<String> {
    let page = app.get(&format!("/api/v1/audit?task_id={id}&limit=200"), t).await;
    let mut items: Vec<Value> = page.body["items"].as_array().cloned().unwrap_or_default();
    items.sort_by_key(|e| e["seq"].as_i64());
    items
        .iter()
        .map(|e| {
            let ty = e["event_type"].as_str().unwrap_or("").trim_start_matches("todo.").to_owned();
            match e["event"]["data"]["change_type"].as_str() {
                Some(c) => format!("{ty}:{c}"),
                None => ty,
            }
        })
        .filter(|t| t.starts_with("task."))
        .collect()
}

/// Waits until the audit trail of `id` holds `want`, in order within each topic
/// (events of two topics may interleave either way: they are consumed apart).
async fn wait_audited(app: &TestApp, t: &str, id: &str, want: &[&str]) {
    let by_topic = |types: &[String]| -> (Vec<String>, Vec<String>) {
        types.iter().cloned().partition(|t| t.starts_with("task.changed"))
    };
    let want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    let want = by_topic(&want);
    eventually(30, &format!("the audit trail of {id} to be {want:?}"), || async {
        (by_topic(&audited(app, t, id).await) == want).then_some(())
    })
    .await;
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next live update about task `id`.
async fn next_about(ws: &mut Ws, id: &str) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("a live update in time");
        if let Some(Ok(tungstenite::Message::Text(t))) = msg {
            let ev: Value = serde_json::from_str(&t).expect("JSON");
            if ev["data"]["task_id"] == id {
                return ev;
            }
        } else if !matches!(msg, Some(Ok(_))) {
            panic!("the socket ended: {msg:?}");
        }
    }
}

async fn undo_of_every_change_is_an_audited_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.register("ada@example.com").await;
    let (mut ws, _) = tokio_tungstenite::connect_async(todo_tests::ws_request(app.addr, &t)).await.expect("ws");
    // The live stream starts once the sync consumer joined: wait for a first update.
    let joined = tokio::time::Instant::now() + Duration::from_secs(30);
    for n in 0.. {
        let warm = app.create_task(&t, json!({"title": format!("warm-up {n}")})).await;
        if tokio::time::timeout(Duration::from_millis(500), next_about(&mut ws, warm["id"].as_str().unwrap()))
            .await
            .is_ok()
        {
            break;
        }
        assert!(tokio::time::Instant::now() < joined, "the sync consumer never joined");
    }
    let id_of = |r: &Value| r["actions"][0]["result"]["id"].as_str().unwrap().to_owned();

    // An add, undone: deleted.
    let r = say(&app, &t, None, "add undo the add").await;
    let conv = r["conversation_id"].as_str().unwrap().to_owned();
    let added = id_of(&r);
    let r = say(&app, &t, Some(&conv), "undo").await;
    assert_eq!(r["actions"][0]["tool"], "undo", "{r}");
    assert_eq!(r["actions"][0]["result"]["deleted"], added.as_str(), "{r}");
    assert_eq!(app.get(&format!("/api/v1/tasks/{added}"), &t).await.status, StatusCode::NOT_FOUND);
    wait_audited(
        &app,
        &t,
        &added,
        &["task.created.v1", "task.changed.v1:created", "task.deleted.v1", "task.changed.v1:deleted"],
    )
    .await;

    // A completion, undone: reopened.
    let done = id_of(&say(&app, &t, Some(&conv), "add undo the completion").await);
    say(&app, &t, Some(&conv), "mark it as done").await;
    say(&app, &t, Some(&conv), "undo").await;
    assert_eq!(task(&app, &t, &done).await["status"], "pending");
    wait_audited(
        &app,
        &t,
        &done,
        &[
            "task.created.v1",
            "task.changed.v1:created",
            "task.completed.v1",
            "task.changed.v1:completed",
            "task.updated.v1",
            "task.changed.v1:reopened",
        ],
    )
    .await;

    // An update, undone: the values before.
    let moved = id_of(&say(&app, &t, Some(&conv), "add undo the update tomorrow at 5pm").await);
    let before = task(&app, &t, &moved).await;
    say(&app, &t, Some(&conv), "actually make it 6pm and high priority").await;
    say(&app, &t, Some(&conv), "undo").await;
    let after = task(&app, &t, &moved).await;
    assert_eq!((&after["due_at"], &after["priority"]), (&before["due_at"], &before["priority"]));
    wait_audited(
        &app,
        &t,
        &moved,
        &[
            "task.created.v1",
            "task.changed.v1:created",
            "task.updated.v1",
            "task.changed.v1:updated",
            "task.updated.v1",
            "task.changed.v1:updated",
        ],
    )
    .await;

    // A deletion, undone: the task back with its id, seen live.
    let gone = id_of(&say(&app, &t, Some(&conv), "add undo the deletion tomorrow at 9am").await);
    assert_eq!(next_about(&mut ws, &gone).await["data"]["change_type"], "created");
    say(&app, &t, Some(&conv), "delete it").await;
    assert_eq!(next_about(&mut ws, &gone).await["data"]["change_type"], "deleted");
    let r = say(&app, &t, Some(&conv), "undo").await;
    assert!(r["reply"].as_str().unwrap().contains("undo the deletion"), "{r}");
    let live = next_about(&mut ws, &gone).await;
    assert_eq!(live["data"]["change_type"], "restored", "{live}");
    assert_eq!(live["data"]["task_data"]["id"], gone.as_str());
    let restored = task(&app, &t, &gone).await;
    assert_eq!(restored["title"], "undo the deletion");
    assert_eq!(restored["version"], 2, "one version after the deleted one");
    wait_audited(
        &app,
        &t,
        &gone,
        &[
            "task.created.v1",
            "task.changed.v1:created",
            "task.deleted.v1",
            "task.changed.v1:deleted",
            "task.created.v1",
            "task.changed.v1:restored",
        ],
    )
    .await;

    // A skip, undone.
    let series = id_of(&say(&app, &t, Some(&conv), "add undo the skip every monday at 10am").await);
    let first = task(&app, &t, &series).await["due_at"].clone();
    say(&app, &t, Some(&conv), "skip the next one").await;
    assert_ne!(task(&app, &t, &series).await["due_at"], first);
    say(&app, &t, Some(&conv), "undo").await;
    assert_eq!(task(&app, &t, &series).await["due_at"], first);

    // A bulk action, confirmed, undone: every task back.
    let a = id_of(&say(&app, &t, Some(&conv), "add bulk one #bulk").await);
    let b = id_of(&say(&app, &t, Some(&conv), "add bulk two #bulk").await);
    let r = say(&app, &t, Some(&conv), "delete all my #bulk tasks").await;
    assert!(r["reply"].as_str().unwrap().contains("Shall I go ahead?"), "{r}");
    assert_eq!(task(&app, &t, &a).await["status"], "pending", "nothing changes before the yes");
    say(&app, &t, Some(&conv), "yes").await;
    assert_eq!(app.get(&format!("/api/v1/tasks/{a}"), &t).await.status, StatusCode::NOT_FOUND);
    say(&app, &t, Some(&conv), "undo").await;
    for id in [&a, &b] {
        assert_eq!(task(&app, &t, id).await["status"], "pending");
        wait_audited(
            &app,
            &t,
            id,
            &[
                "task.created.v1",
                "task.changed.v1:created",
                "task.deleted.v1",
                "task.changed.v1:deleted",
                "task.created.v1",
                "task.changed.v1:restored",
            ],
        )
        .await;
    }
    let r = say(&app, &t, Some(&conv), "undo").await;
    assert!(r["reply"].as_str().unwrap().contains("Undid adding 'bulk two'"), "undo walks further back: {r}");
}
