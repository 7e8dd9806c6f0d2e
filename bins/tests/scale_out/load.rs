//! The load: changes through the chat API, a backlog for the audit group.

use super::*;

/// Audit entries that break their user's chain: a gap in `seq`, a `prev_hash`
/// that is not the previous entry's `hash`, or a `hash` that is not
/// `sha256(prev_hash || event)`. Kept identical to docs/operations.md.
pub const AUDIT_CHAINS_SQL: &str = "\
SELECT count(*) FROM (
  SELECT seq, prev_hash, hash, event,
         row_number() OVER w AS n,
         lag(hash, 1, repeat('0', 64)) OVER w AS expected_prev
  FROM audit_log WINDOW w AS (PARTITION BY user_id ORDER BY seq)
) a
WHERE seq <> n OR prev_hash <> expected_prev
   OR hash <> encode(sha256(decode(prev_hash, 'hex') || convert_to(event, 'UTF8')), 'hex')";

#[derive(Clone, Debug, Default)]
pub struct LoadStats {
    pub changes: usize,
    pub retried: usize,
    pub reminders: usize,
    pub recurring_completed: usize,
    pub last_reminder: Option<chrono::DateTime<chrono::Utc>>,
}

/// `n` changes of one user: tasks created (plain, recurring, with a reminder due
/// within seconds), renamed, completed (recurring ones once), deleted.
pub async fn load(api: Api, token: String, n: usize, stats: Arc<Mutex<LoadStats>>) {
    let mut plain: Vec<String> = Vec::new();
    let mut recurring: Vec<String> = Vec::new();
    let mut done = 0;
    let mut i = 0usize;
    while done < n {
        i += 1;
        let (method, path, body) = match i % 8 {
            0 | 1 => (Method::POST, "/api/v1/tasks".to_owned(), Some(json!({"title": format!("task {i}")}))),
            2 => {
                let due = chrono::Utc::now() + chrono::Duration::days(1);
                let body = json!({"title": format!("daily {i}"), "due_at": due, "recurrence": "FREQ=DAILY"});
                (Method::POST, "/api/v1/tasks".to_owned(), Some(body))
            }
            3 => {
                let remind =
                    chrono::Utc::now() + chrono::Duration::milliseconds(rand::thread_rng().gen_range(1500..8000));
                let due = remind + chrono::Duration::hours(1);
                let body = json!({"title": format!("call {i}"), "due_at": due, "remind_at": remind});
                let mut s = stats.lock().unwrap();
                s.reminders += 1;
                s.last_reminder = Some(s.last_reminder.map_or(remind, |l| l.max(remind)));
                (Method::POST, "/api/v1/tasks".to_owned(), Some(body))
            }
            4 | 5 if !plain.is_empty() => {
                let id = &plain[rand::thread_rng().gen_range(0..plain.len())];
                (Method::PATCH, format!("/api/v1/tasks/{id}"), Some(json!({"title": format!("renamed {i}")})))
            }
            6 if !recurring.is_empty() => {
                let id = recurring.remove(0);
                stats.lock().unwrap().recurring_completed += 1;
                (Method::POST, format!("/api/v1/tasks/{id}/complete"), None)
            }
            7 if plain.len() > 3 => {
                let id = plain.remove(rand::thread_rng().gen_range(0..plain.len()));
                if i % 16 == 7 {
                    (Method::DELETE, format!("/api/v1/tasks/{id}"), None)
                } else {
                    (Method::POST, format!("/api/v1/tasks/{id}/complete"), None)
                }
            }
            _ => (Method::POST, "/api/v1/tasks".to_owned(), Some(json!({"title": format!("task {i}")}))),
        };
        let (status, v) = api.call(method.clone(), &path, Some(&token), body.as_ref()).await;
        match status {
            StatusCode::CREATED => {
                let id = v["id"].as_str().unwrap().to_owned();
                if v["recurrence"].is_string() {
                    recurring.push(id);
                } else if v["remind_at"].is_null() {
                    plain.push(id);
                }
            }
            s if s.is_success() => {}
            // A retried request whose first attempt went through before its instance died.
            StatusCode::NOT_FOUND | StatusCode::CONFLICT => {
                stats.lock().unwrap().retried += 1;
                continue;
            }
            s => panic!("{method} {path}: {s} {v}"),
        }
        done += 1;
        stats.lock().unwrap().changes += 1;
        let pause = rand::thread_rng().gen_range(40..140);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// `changes` changes of 10 users committed to the outbox in-process (no services).
pub async fn backlog(dep: &Deployment, changes: usize) -> usize {
    use todo_core::domain::{Email, TaskTitle, Timezone, User, UserId};
    use todo_core::events::EventFactory;
    use todo_core::ports::SystemClock;
    use todo_core::service::{NewTask, TaskPatch, TaskService};
    let store =
        todo_store::connect_with(&dep.db, &todo_store::StoreOptions { topic_names: dep.names(), ..Default::default() })
            .await
            .expect("connect");
    let tasks =
        TaskService::new(store.tasks(), store.users(), Arc::new(SystemClock), EventFactory::new("/todo/chat-api"));
    let mut writers = Vec::new();
    for u in 0..10 {
        let user = User {
            id: UserId::new(),
            email: Email::parse(&format!("bench{u}@example.com")).unwrap(),
            password_hash: String::new(),
            timezone: Timezone::default(),
            created_at: chrono::Utc::now(),
        };
        store.users().create(&user).await.unwrap();
        let tasks = tasks.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..changes / 10 {
                let title = TaskTitle::parse(&format!("change {n}")).unwrap();
                if n < 5 {
                    ids.push(tasks.create(user.id, NewTask::titled(title)).await.unwrap().id);
                } else {
                    let patch = TaskPatch { title: Some(title), ..Default::default() };
                    tasks.update(user.id, ids[n % 5], patch, None).await.unwrap();
                }
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    store.close().await;
    changes / 10 * 10
}

/// Waits until Kafka holds `want` distinct events of the deployment's topics.
pub async fn wait_on_kafka(dep: &Deployment, want: usize) {
    let log = dep.kafka_log();
    let topics: Vec<String> = Topic::ALL.iter().map(|t| dep.names().name(*t)).collect();
    let group = format!("count-{}", uuid::Uuid::new_v4().simple());
    let mut sub = log.subscribe(&group, &topics, StartFrom::Earliest).await.unwrap();
    let mut seen = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while seen.len() < want {
        assert!(Instant::now() < deadline, "the relay published {} of {want} events", seen.len());
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), sub.next()).await {
            seen.insert(CloudEvent::from_json_bytes(&r.payload).unwrap().id);
        }
    }
    let _ = sub.close().await;
}
