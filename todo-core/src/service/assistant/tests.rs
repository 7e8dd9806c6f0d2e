use std::sync::Arc;

use super::*;
use crate::domain::{Email, Scopes, Status, Tags, TaskId, TaskTitle, Timezone, User, UserId};
use crate::events::EventFactory;
use crate::memory::{ManualClock, MemoryStore};
use crate::ports::{Clock, UserRepository};
use crate::service::chat::RuleBasedInterpreter;

async fn setup() -> (AssistantService, Arc<MemoryStore>, Principal, Principal) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::at("2026-11-26T09:00:00Z"));
    let user = User {
        id: UserId::new(),
        email: Email::parse("ada@example.com").unwrap(),
        password_hash: String::new(),
        timezone: Timezone::parse("Europe/Berlin").unwrap(),
        created_at: clock.now(),
    };
    store.create(&user).await.unwrap();
    let tasks = TaskService::new(store.clone(), store.clone(), clock.clone(), EventFactory::new("/test"));
    let chat = ChatService::new(tasks.clone(), store.clone(), clock.clone(), Arc::new(RuleBasedInterpreter));
    let svc = AssistantService::new(
        tasks.clone(),
        chat,
        AuditService::new(store.clone()),
        NotificationService::new(store.clone()),
        FilterService::new(tasks, store.clone()),
    );
    let write = Principal::session(user.id);
    let read = Principal { scopes: Scopes::READ, ..write };
    (svc, store, write, read)
}

#[tokio::test]
async fn a_sentence_adds_a_recurring_task() {
    let (svc, _, p, _) = setup().await;
    let text = AddTaskArgs { text: Some("water the plants every monday at 9am".into()), ..Default::default() };
    let t = svc.add_task(&p, text).await.unwrap();
    assert_eq!(t.title.as_str(), "water the plants");
    assert_eq!(t.recurrence.as_ref().map(|r| r.as_str()), Some("FREQ=WEEKLY;BYDAY=MO"));
    // A sentence without a verb reads as an addition.
    let t = svc.add_task(&p, AddTaskArgs { text: Some("dentist friday 3pm".into()), ..Default::default() }).await;
    assert_eq!(t.unwrap().title.as_str(), "dentist");
}

#[tokio::test]
async fn a_read_token_changes_nothing() {
    let (svc, store, write, read) = setup().await;
    let t = svc
        .add_task(&write, AddTaskArgs { title: Some(TaskTitle::parse("x").unwrap()), ..Default::default() })
        .await
        .unwrap();
    let before = store.records(crate::events::Topic::TaskEvents).len();
    let id = TaskVersionArgs { id: t.id, expected_version: None };
    let refused = [
        svc.add_task(&read, AddTaskArgs { title: Some(TaskTitle::parse("y").unwrap()), ..Default::default() })
            .await
            .err(),
        svc.complete_task(&read, id.clone()).await.err(),
        svc.reopen_task(&read, id.clone()).await.err(),
        svc.delete_task(&read, id.clone()).await.err(),
        svc.update_task(&read, UpdateTaskArgs { id: t.id, changes: TaskPatch::default(), expected_version: None })
            .await
            .err(),
        svc.add_reminder(&read, AddReminderArgs { id: t.id, remind_at: Some(t.created_at), minutes_before_due: None })
            .await
            .err(),
        svc.complete_tasks(&read, TaskIdsArgs { ids: vec![t.id] }).await.err(),
        svc.add_tasks(&read, AddTasksArgs { tasks: vec![AddTaskArgs::default()] }).await.err(),
    ];
    for (i, e) in refused.into_iter().enumerate() {
        assert!(matches!(e, Some(Error::Forbidden(_))), "call {i}: {e:?}");
    }
    assert_eq!(store.records(crate::events::Topic::TaskEvents).len(), before, "no event");
    assert_eq!(svc.get_task(&read, TaskIdArgs { id: t.id }).await.unwrap().status, Status::Pending);
    assert_eq!(svc.find_tasks(&read, FindTasksArgs::default()).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn batches_report_each_item() {
    let (svc, _, p, _) = setup().await;
    let ok = AddTaskArgs { title: Some(TaskTitle::parse("a").unwrap()), ..Default::default() };
    let both = AddTaskArgs { text: Some("add b".into()), ..ok.clone() };
    let r = svc.add_tasks(&p, AddTasksArgs { tasks: vec![ok, both, AddTaskArgs::default()] }).await.unwrap();
    assert_eq!((r.succeeded, r.failed), (1, 2));
    assert!(r.results[1].error.as_deref().unwrap().contains("not both"));
    assert!(r.results[2].error.as_deref().unwrap().contains("give a title"));
    let done = svc
        .complete_tasks(&p, TaskIdsArgs { ids: vec![r.results[0].task.as_ref().unwrap().id, TaskId::new()] })
        .await
        .unwrap();
    assert_eq!((done.succeeded, done.failed), (1, 1));
    assert_eq!(done.results[1].error.as_deref(), Some("task not found"));
    assert!(svc.complete_tasks(&p, TaskIdsArgs { ids: vec![] }).await.is_err());
}

#[tokio::test]
async fn reminders_before_the_due_time() {
    let (svc, _, p, _) = setup().await;
    let t = svc
        .add_task(
            &p,
            AddTaskArgs {
                title: Some(TaskTitle::parse("call").unwrap()),
                due_at: Some("2026-12-01T10:00:00Z".parse().unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let r = AddReminderArgs { id: t.id, remind_at: None, minutes_before_due: Some(30) };
    let t = svc.add_reminder(&p, r).await.unwrap();
    assert_eq!(t.remind_at, Some("2026-12-01T09:30:00Z".parse().unwrap()));
    let neither = AddReminderArgs { id: t.id, remind_at: None, minutes_before_due: None };
    assert!(matches!(svc.add_reminder(&p, neither).await, Err(Error::Validation(_))));
}

fn task(title: &str, tags: &[&str], due: Option<&str>) -> AddTaskArgs {
    AddTaskArgs {
        title: Some(TaskTitle::parse(title).unwrap()),
        tags: Some(Tags::parse(tags.iter().copied()).unwrap()),
        due_at: due.map(|d| d.parse().unwrap()),
        ..Default::default()
    }
}

fn titles(page: &TaskPage) -> Vec<&str> {
    page.items.iter().map(|t| t.title.as_str()).collect()
}

fn filter(q: &str) -> FindTasksArgs {
    FindTasksArgs { filter: Some(q.into()), ..Default::default() }
}

#[tokio::test]
async fn find_tasks_reads_a_filter_in_the_users_time_zone() {
    // 09:00 UTC on 2026-11-26 is 10:00 in Berlin; Berlin's 27th starts at 23:00 UTC.
    let (svc, _, p, read) = setup().await;
    for t in [
        task("late tonight", &["work"], Some("2026-11-26T22:30:00Z")),
        task("just after midnight", &["work"], Some("2026-11-26T23:30:00Z")),
        task("yesterday", &["home"], Some("2026-11-25T08:00:00Z")),
        task("someday", &["work"], None),
    ] {
        svc.add_task(&p, t).await.unwrap();
    }
    let today = svc.find_tasks(&read, filter("today & #work")).await.unwrap();
    assert_eq!(titles(&today), ["late tonight"], "Berlin's today, not UTC's");
    let agenda = svc.find_tasks(&read, filter("overdue, today")).await.unwrap();
    assert_eq!(titles(&agenda), ["yesterday"]);
    assert_eq!(agenda.lists.as_deref(), Some(&["overdue".to_owned(), "today".to_owned()][..]));
    let second = FindTasksArgs { list: Some(1), ..filter("overdue, today") };
    assert_eq!(titles(&svc.find_tasks(&read, second).await.unwrap()), ["late tonight"]);
    let none = svc.find_tasks(&read, filter("no date")).await.unwrap();
    assert_eq!(titles(&none), ["someday"]);
    let all = svc.find_tasks(&read, FindTasksArgs::default()).await.unwrap();
    assert_eq!(all.items.len(), 4, "without a filter: every pending task");
    assert_eq!(all.lists, None);
    // Pages.
    let first = svc.find_tasks(&read, FindTasksArgs { limit: Some(3), ..Default::default() }).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let rest = FindTasksArgs { limit: Some(3), cursor: first.next_cursor.clone(), ..Default::default() };
    let rest = svc.find_tasks(&read, rest).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next_cursor.is_none());
}

#[tokio::test]
async fn an_invalid_filter_says_what_and_where() {
    let (svc, _, _, read) = setup().await;
    let e = svc.find_tasks(&read, filter("#work & due before:")).await.unwrap_err();
    let Error::InvalidFilter(f) = &e else { panic!("{e:?}") };
    assert_eq!(f.span, [19, 19]);
    let said = describe(&e);
    assert!(said.starts_with("invalid filter: expected a date"), "{said}");
    assert!(said.contains("at 19") && said.contains("characters 19 to 19"), "{said}");
    let list = svc.find_tasks(&read, FindTasksArgs { list: Some(1), ..filter("today") }).await.unwrap_err();
    assert!(describe(&list).contains("list must be 0 to 0"), "{list:?}");
}

#[tokio::test]
async fn find_tasks_opens_a_saved_filter_by_name() {
    let (svc, _, p, read) = setup().await;
    svc.add_task(&p, task("report", &["work"], None)).await.unwrap();
    svc.add_task(&p, task("garden", &["home"], None)).await.unwrap();
    let none = FindTasksArgs { saved_filter: Some("work".into()), ..Default::default() };
    let e = svc.find_tasks(&read, none.clone()).await.unwrap_err();
    assert!(describe(&e).contains("has no saved filters"), "{e:?}");
    let saved = crate::service::filters::NewSavedFilter { name: "Work Stuff".into(), query: "#work".into() };
    svc.filters.create(p.user_id, saved).await.unwrap();
    let e = svc.find_tasks(&read, none).await.unwrap_err();
    assert!(describe(&e).contains(r#"saved filters are "Work Stuff""#), "{e:?}");
    let by_name = FindTasksArgs { saved_filter: Some("work  stuff".into()), ..Default::default() };
    assert_eq!(titles(&svc.find_tasks(&read, by_name).await.unwrap()), ["report"]);
    let both = FindTasksArgs { saved_filter: Some("Work Stuff".into()), ..filter("#home") };
    assert!(describe(&svc.find_tasks(&read, both).await.unwrap_err()).contains("not both"));
}
