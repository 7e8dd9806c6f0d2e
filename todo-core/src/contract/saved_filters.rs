//! The saved-filter contract: round trips, names unique per user (regardless of
//! case and spacing), listing order, and isolation: another user's filter is not
//! found by any operation, and stays as it was.

use chrono::{DateTime, Duration, Utc};

use crate::Error;
use crate::domain::{FilterId, FilterName, FilterQuery, SavedFilter, UserId};
use crate::ports::SavedFilterStore;

fn filter(user: UserId, name: &str, query: &str, at: DateTime<Utc>) -> SavedFilter {
    SavedFilter {
        id: FilterId::new(),
        user_id: user,
        name: FilterName::parse(name).expect("name"),
        query: FilterQuery::parse(query).expect("query"),
        created_at: at,
        updated_at: at,
    }
}

/// Runs the whole contract on an empty store.
pub async fn run_all(store: &dyn SavedFilterStore) {
    let at: DateTime<Utc> = "2026-11-26T09:00:00.123456Z".parse().expect("instant");
    let (a, b) = (UserId::new(), UserId::new());

    // Round trip.
    let work = filter(a, "Work today", "(today | overdue) & #work & !p3", at);
    store.create(&work).await.expect("create");
    assert_eq!(store.get(a, work.id).await.expect("get"), Some(work.clone()), "a filter reads back as stored");

    // Names are unique per user, whatever their case and spacing; another user may reuse one.
    let clash = filter(a, "  WORK   today ", "p1", at);
    assert!(matches!(store.create(&clash).await, Err(Error::Conflict(_))), "a second 'work today' of the same user");
    let bs = filter(b, "work today", "#home", at);
    store.create(&bs).await.expect("another user may use the same name");

    // Listing: the user's own, by name.
    let errands = filter(a, "errands", "#errand", at + Duration::seconds(1));
    let alpha = filter(a, "Alpha", "p1", at + Duration::seconds(2));
    store.create(&errands).await.expect("create");
    store.create(&alpha).await.expect("create");
    let names: Vec<String> = store.list(a).await.expect("list").iter().map(|f| f.name.as_str().to_owned()).collect();
    assert_eq!(names, ["Alpha", "errands", "Work today"], "a user's filters, by name, and only theirs");
    assert_eq!(store.list(b).await.expect("list"), vec![bs.clone()]);

    // Update.
    let mut renamed = work.clone();
    renamed.name = FilterName::parse("work, today").expect("name");
    renamed.query = FilterQuery::parse("today & #work").expect("query");
    renamed.updated_at = at + Duration::minutes(5);
    store.update(&renamed).await.expect("update");
    assert_eq!(store.get(a, work.id).await.expect("get"), Some(renamed.clone()));
    let mut taken = renamed.clone();
    taken.name = FilterName::parse("ERRANDS").expect("name");
    assert!(matches!(store.update(&taken).await, Err(Error::Conflict(_))), "renaming onto another filter's name");
    let mut same = renamed.clone();
    same.name = FilterName::parse("Work, Today").expect("name");
    store.update(&same).await.expect("a filter may keep its own name in another case");

    // Isolation: B cannot read, change or delete A's filter.
    assert_eq!(store.get(b, work.id).await.expect("get"), None, "B does not see A's filter");
    let mut hijack = same.clone();
    hijack.user_id = b;
    hijack.query = FilterQuery::parse("status:all").expect("query");
    assert!(matches!(store.update(&hijack).await, Err(Error::NotFound(_))), "B cannot change A's filter");
    assert!(matches!(store.delete(b, work.id).await, Err(Error::NotFound(_))), "B cannot delete A's filter");
    assert_eq!(store.get(a, work.id).await.expect("get"), Some(same.clone()), "A's filter is untouched");

    // Delete.
    store.delete(a, work.id).await.expect("delete");
    assert_eq!(store.get(a, work.id).await.expect("get"), None);
    assert!(matches!(store.delete(a, work.id).await, Err(Error::NotFound(_))), "deleting twice");
    assert!(matches!(store.update(&same).await, Err(Error::NotFound(_))), "updating a deleted filter");
    store.create(&filter(a, "work today", "today", at)).await.expect("a deleted filter's name is free again");
    assert_eq!(store.list(b).await.expect("list"), vec![bs], "B's filters never changed");
}
