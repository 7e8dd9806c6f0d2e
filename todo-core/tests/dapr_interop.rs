//! Dapr interop: our consumers accept our events in the shape a Dapr sidecar
//! publishes them. A Dapr app that publishes one of our CloudEvents (content type
//! `application/cloudevents+json`) keeps its attributes; the sidecar adds its own
//! (`pubsubname`, `topic`, `traceid`, `traceparent`, `tracestate`) and may send
//! `datacontenttype` with parameters. Unknown extension attributes are tolerated
//! (CloudEvents 1.0: consumers ignore extensions they do not know).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use todo_core::consumer::{self, EventHandler, Outcome, RetryPolicy};
use todo_core::domain::{Email, Recurrence, Status, TaskQuery, TaskTitle, Timezone, User, UserId};
use todo_core::events::{CloudEvent, EventFactory, EventType, Topic};
use todo_core::memory::{ManualClock, MemoryStore};
use todo_core::ports::{Clock, EventLog, Record, UserRepository};
use todo_core::service::audit::{AuditRecorder, AuditService};
use todo_core::service::recurring::RecurringTaskHandler;
use todo_core::service::{NewTask, TaskService};
use tokio_util::sync::CancellationToken;

/// `record`'s event as a Dapr sidecar delivers it after an app published it to
/// the pub/sub component `todo-pubsub`.
fn as_dapr_publishes(record: &Record, content_type: &str) -> Record {
    let mut event: Value = serde_json::from_slice(&record.payload).unwrap();
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let extra = json!({
        "datacontenttype": content_type,
        "pubsubname": "todo-pubsub",
        "topic": record.topic,
        "traceid": trace,
        "traceparent": trace,
        "tracestate": "",
        // Dapr writes `time` with sub-second digits and an offset.
        "time": event["time"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap().to_rfc3339(),
    });
    for (k, v) in extra.as_object().unwrap() {
        event[k] = v.clone();
    }
    Record { payload: serde_json::to_vec(&event).unwrap(), headers: vec![], ..record.clone() }
}

#[test]
fn the_envelope_reads_dapr_attributes_and_json_media_types() {
    let ev = CloudEvent::new("/todo/chat-api", EventType::TaskCreated, None, Utc::now(), UserId::new(), json!({}));
    let record = Record {
        topic: "task-events".into(),
        partition: 0,
        offset: 0,
        key: None,
        payload: ev.to_json_bytes(),
        headers: vec![],
    };
    for ct in ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.todo+json"] {
        let parsed = CloudEvent::from_json_bytes(&as_dapr_publishes(&record, ct).payload)
            .unwrap_or_else(|e| panic!("{ct}: {e}"));
        assert_eq!(parsed.id, ev.id);
        assert_eq!(parsed.userid, ev.userid);
        assert_eq!(parsed.time, ev.time, "{ct}");
    }
    for ct in ["text/plain", "application/xml", "+json", "application/", ""] {
        assert!(CloudEvent::from_json_bytes(&as_dapr_publishes(&record, ct).payload).is_err(), "{ct:?} is not JSON");
    }
}

#[tokio::test]
async fn consumers_process_dapr_shaped_events_once() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at("2026-11-26T09:00:00Z");
    let user = User {
        id: UserId::new(),
        email: Email::parse("dapr@example.com").unwrap(),
        password_hash: String::new(),
        timezone: Timezone::default(),
        created_at: clock.now(),
    };
    store.create(&user).await.unwrap();
    let tasks = TaskService::new(store.clone(), store.clone(), Arc::new(clock.clone()), EventFactory::new("/test"));
    let task = tasks
        .create(
            user.id,
            NewTask {
                due_at: Some("2026-11-27T09:00:00Z".parse().unwrap()),
                recurrence: Some(Recurrence::parse("FREQ=WEEKLY").unwrap()),
                ..NewTask::titled(TaskTitle::parse("water the plants").unwrap())
            },
        )
        .await
        .unwrap();
    tasks.complete(user.id, task.id, None).await.unwrap();

    let recurring: Arc<dyn EventHandler> = Arc::new(RecurringTaskHandler::new(TaskService::new(
        store.clone(),
        store.clone(),
        Arc::new(clock.clone()),
        EventFactory::new("/todo/recurring-task"),
    )));
    let audit: Arc<dyn EventHandler> = Arc::new(AuditRecorder::new(store.clone(), Arc::new(clock.clone())));
    let token = CancellationToken::new();
    let records = store.records(Topic::TaskEvents);
    assert_eq!(records.len(), 2, "created, completed");
    for record in &records {
        // Delivered twice, with different traces: still one effect.
        for ct in ["application/json", "application/json; charset=utf-8"] {
            let dapr = as_dapr_publishes(record, ct);
            for handler in [&recurring, &audit] {
                let log: &dyn EventLog = &*store;
                let outcome = consumer::process(log, &**handler, "dapr-test", &dapr, RetryPolicy::default(), &token)
                    .await
                    .unwrap();
                assert!(matches!(outcome, Outcome::Handled | Outcome::Duplicate), "{outcome:?}");
            }
        }
    }

    let pending = tasks.list(&TaskQuery::new(user.id, clock.now())).await.unwrap().items;
    let successors: Vec<_> = pending.iter().filter(|t| t.status == Status::Pending).collect();
    assert_eq!(successors.len(), 1, "one next occurrence");
    assert_eq!(successors[0].series_id, task.series_id);
    let verify = AuditService::new(store.clone()).verify(user.id).await.unwrap();
    assert!(verify.ok);
    assert_eq!(verify.entries_checked, 2, "one audit entry per event");
    assert_eq!(store.all_tasks().len(), 2, "the completed occurrence and its one successor");
}
