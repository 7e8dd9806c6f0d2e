//! The calendar feed over HTTP: made, rotated and revoked by a session; served
//! to anyone holding the secret (and nobody else: unknown, rotated and revoked
//! secrets are 404); one user's feed never shows another's tasks; ETags.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_tests::{Backend, TestApp, on_every_backend};

on_every_backend!(feed_lifecycle_and_contents, feeds_belong_to_their_user, etags_and_options);

/// The feed at `url`: status, ETag, body.
async fn fetch(app: &TestApp, url: &str, if_none_match: Option<&str>) -> (StatusCode, Option<String>, String) {
    let mut req = app.client.get(url);
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let res = req.send().await.expect("feed request");
    let status = res.status();
    let etag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
    (status, etag, res.text().await.expect("body"))
}

fn unfold(ics: &str) -> String {
    ics.replace("\r\n ", "")
}

/// The path of a feed URL on this app (the URL's host is the request's).
fn path_of(url: &Value) -> String {
    let u = url.as_str().expect("url");
    assert!(u.starts_with("http://") && u.ends_with(".ics"), "{u}");
    u[u.find("/api/").expect("a path")..].to_owned()
}

async fn feed_lifecycle_and_contents(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("ada@example.com").await;
    assert_eq!(app.get("/api/v1/calendar", &s).await.body, json!({"active": false, "created_at": null}));
    let weekly = app
        .create_task(
            &s,
            json!({"title": "water the plants", "due_at": "2026-11-30T09:00:00Z", "recurrence": "FREQ=WEEKLY;BYDAY=MO",
                   "remind_at": "2026-11-30T08:45:00Z", "tags": ["home"], "priority": "high"}),
        )
        .await;
    let day =
        app.create_task(&s, json!({"title": "pay rent", "due_at": "2026-12-01T00:00:00Z", "all_day": true})).await;
    app.create_task(&s, json!({"title": "someday"})).await;

    let made = app.call(Method::POST, "/api/v1/calendar", Some(&s), None).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert!(made.body["webcal_url"].as_str().unwrap().starts_with("webcal://"));
    let path = path_of(&made.body["url"]);
    let again = app.call(Method::POST, "/api/v1/calendar", Some(&s), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "one feed per user");
    let state = app.get("/api/v1/calendar", &s).await.body;
    assert_eq!(state["active"], true);
    assert_eq!(state["created_at"], made.body["created_at"]);

    let (status, _, ics) = fetch(&app, &app.url(&path), None).await;
    assert_eq!(status, StatusCode::OK);
    let ics = unfold(&ics);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "dated tasks only: {ics}");
    assert!(ics.contains(&format!("UID:{}@todo-events", weekly["id"].as_str().unwrap())), "{ics}");
    assert!(ics.contains("RRULE:FREQ=WEEKLY;BYDAY=MO"), "{ics}");
    assert!(ics.contains("DTSTART:20261130T090000Z"), "a UTC user's times are UTC: {ics}");
    assert!(ics.contains("DTSTART;VALUE=DATE:20261201"), "{ics}");
    assert!(ics.contains("TRIGGER;RELATED=START:-PT900S"), "{ics}");
    assert!(ics.contains("SEQUENCE:0") && ics.contains("CATEGORIES:home") && ics.contains("PRIORITY:1"), "{ics}");
    assert!(!ics.contains("someday"));

    // Completed tasks drop out (and their next occurrence comes in).
    let did = day["id"].as_str().unwrap();
    app.post(&format!("/api/v1/tasks/{did}/complete"), &s, json!({})).await;
    let (_, _, ics) = fetch(&app, &app.url(&path), None).await;
    assert!(!ics.contains("pay rent"), "{ics}");
    let (_, _, with_done) = fetch(&app, &app.url(&format!("{path}?completed=true")), None).await;
    assert!(with_done.contains("SUMMARY:✓ pay rent"), "{with_done}");

    // Rotation: the old address is 404 at once, the new one works.
    let rotated = app.call(Method::POST, "/api/v1/calendar/rotate", Some(&s), None).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_path = path_of(&rotated.body["url"]);
    assert_ne!(new_path, path);
    assert_eq!(fetch(&app, &app.url(&path), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&app, &app.url(&new_path), None).await.0, StatusCode::OK);

    // Revocation: 404, and there is nothing to rotate or revoke.
    assert_eq!(app.call(Method::DELETE, "/api/v1/calendar", Some(&s), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(fetch(&app, &app.url(&new_path), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::DELETE, "/api/v1/calendar", Some(&s), None).await.status, StatusCode::NOT_FOUND);
    let rot = app.call(Method::POST, "/api/v1/calendar/rotate", Some(&s), None).await;
    assert_eq!(rot.status, StatusCode::NOT_FOUND);
    // Made-up secrets: 404 whatever their shape.
    for bad in ["x.ics", "nope", &format!("{}.ics", "A".repeat(43)), "rotate.ics", &"A".repeat(43)] {
        let (status, _, body) = fetch(&app, &app.url(&format!("/api/v1/calendar/{bad}")), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}: {body}");
    }
}

async fn feeds_belong_to_their_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice@example.com").await;
    let b = app.register("bob@example.com").await;
    app.create_task(&a, json!({"title": "alice's secret", "due_at": "2026-12-01T09:00:00Z"})).await;
    app.create_task(&b, json!({"title": "bob's errand", "due_at": "2026-12-02T09:00:00Z"})).await;
    let a_path = path_of(&app.call(Method::POST, "/api/v1/calendar", Some(&a), None).await.body["url"]);

    // B has no feed, and nothing B does touches A's.
    assert_eq!(app.get("/api/v1/calendar", &b).await.body["active"], false);
    assert_eq!(app.call(Method::POST, "/api/v1/calendar/rotate", Some(&b), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::DELETE, "/api/v1/calendar", Some(&b), None).await.status, StatusCode::NOT_FOUND);
    let (status, _, a_ics) = fetch(&app, &app.url(&a_path), None).await;
    assert_eq!(status, StatusCode::OK, "A's feed survives B's attempts");
    assert!(a_ics.contains("alice's secret") && !a_ics.contains("bob's errand"), "{a_ics}");

    let b_path = path_of(&app.call(Method::POST, "/api/v1/calendar", Some(&b), None).await.body["url"]);
    let (_, _, b_ics) = fetch(&app, &app.url(&b_path), None).await;
    assert!(b_ics.contains("bob's errand") && !b_ics.contains("alice's secret"), "{b_ics}");
    // B revoking B's feed leaves A's.
    app.call(Method::DELETE, "/api/v1/calendar", Some(&b), None).await;
    assert_eq!(fetch(&app, &app.url(&a_path), None).await.0, StatusCode::OK);
    assert_eq!(fetch(&app, &app.url(&b_path), None).await.0, StatusCode::NOT_FOUND);
}

async fn etags_and_options(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("ada@example.com").await;
    let t = app.create_task(&s, json!({"title": "call mum", "due_at": "2026-12-01T18:00:00Z"})).await;
    let path = path_of(&app.call(Method::POST, "/api/v1/calendar", Some(&s), None).await.body["url"]);
    let url = app.url(&path);
    let (_, etag, first) = fetch(&app, &url, None).await;
    let etag = etag.expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
    let (status, etag2, body) = fetch(&app, &url, Some(&etag)).await;
    assert_eq!((status, etag2.as_deref(), body.as_str()), (StatusCode::NOT_MODIFIED, Some(etag.as_str()), ""));
    assert_eq!(fetch(&app, &url, Some("\"other\"")).await.0, StatusCode::OK);
    assert_eq!(fetch(&app, &url, None).await.2, first, "the same tasks, the same bytes");

    let id = t["id"].as_str().unwrap();
    app.call(Method::PATCH, &format!("/api/v1/tasks/{id}"), Some(&s), Some(json!({"title": "call mum back"}))).await;
    let (status, new_tag, body) = fetch(&app, &url, Some(&etag)).await;
    assert_eq!(status, StatusCode::OK, "a change changes the ETag");
    assert_ne!(new_tag.as_deref(), Some(etag.as_str()));
    assert!(unfold(&body).contains("SEQUENCE:1"), "SEQUENCE follows the version: {body}");

    let (_, _, both) = fetch(&app, &format!("{url}?components=vevent,vtodo"), None).await;
    assert!(both.contains("BEGIN:VEVENT") && both.contains("BEGIN:VTODO"), "{both}");
    let (_, _, todos) = fetch(&app, &format!("{url}?components=vtodo"), None).await;
    assert!(todos.contains("BEGIN:VTODO") && !todos.contains("BEGIN:VEVENT"), "{todos}");
    assert!(todos.contains(&format!("UID:{id}-todo@todo-events")) && todos.contains("STATUS:NEEDS-ACTION"));
    for bad in ["?components=vjournal", "?completed=maybe", "?x=1"] {
        let a = app.call(Method::GET, &format!("{path}{bad}"), None, None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", a.body);
    }
}
