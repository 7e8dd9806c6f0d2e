//! `TaskService`: every task use case. Each mutation commits the task and its
//! events in one unit of work.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::query::{Cursor, SortSpec, StatusFilter, TaskQuery};
pub use crate::domain::task::{NewTask, TaskPatch, local_midnight, parse_instant};
use crate::domain::{PageLimit, Priority, Status, Tag, Task, TaskId, TaskPage, Timezone, UserId, ValidationError};
use crate::events::{EventFactory, TaskChange};
use crate::filter::{Context, Filter};
use crate::ports::{Change, Clock, ProcessedKey, TaskRepository, TaskWrite, UserRepository};
use crate::{Error, Result};

/// Attempts at an update without `If-Match` that races with another writer.
const UPDATE_ATTEMPTS: usize = 3;

/// `GET /api/v1/tasks` query parameters, as text; [`ListParams::into_query`] parses them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `pending` (default), `completed` or `all`.
    pub status: Option<String>,
    /// `low`, `medium` or `high`.
    pub priority: Option<String>,
    /// Only tasks with this tag.
    pub tag: Option<String>,
    /// Case-insensitive text search in title and description.
    pub q: Option<String>,
    /// RFC 3339; only tasks due before this instant (exclusive).
    pub due_before: Option<String>,
    /// RFC 3339; only tasks due at or after this instant.
    pub due_after: Option<String>,
    /// `true`: only pending tasks past their due time.
    pub overdue: Option<String>,
    /// `due_at` (default), `priority`, `created_at`, `title`; `-` prefix for descending.
    pub sort: Option<String>,
    /// 1..=200, default 50.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// A filter query, e.g. `(today | overdue) & #work & !p3` (docs/filters.md). The
    /// parameters above are shorthands of its terms; given with it, they narrow it
    /// further (AND). Without `status`, the filter decides the statuses (pending
    /// unless it names one).
    pub filter: Option<String>,
    /// Which of the filter's comma-separated lists this page is of: 0 (default) to
    /// one less than the number of lists.
    pub list: Option<String>,
}

impl ListParams {
    /// The query of these parameters for a user in UTC (see [`ListParams::into_query_in`]).
    pub fn into_query(self, user_id: UserId, now: DateTime<Utc>) -> Result<TaskQuery> {
        self.into_query_in(user_id, now, Tz::UTC).map(|(q, _)| q)
    }

    /// The query of these parameters for a user in time zone `tz`, and the texts of
    /// the filter's lists when there is a filter. A filter that does not parse is
    /// [`Error::InvalidFilter`].
    pub fn into_query_in(
        mut self,
        user_id: UserId,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<(TaskQuery, Option<Vec<String>>)> {
        let filter = self.take_filter()?;
        self.into_query_of(filter, user_id, now, tz)
    }

    /// Takes the filter out of the parameters, parsed.
    fn take_filter(&mut self) -> Result<Option<Filter>> {
        Ok(self.filter.take().map(|f| Filter::parse(&f)).transpose()?)
    }

    /// [`ListParams::into_query_in`] with the filter parsed already.
    fn into_query_of(
        mut self,
        filter: Option<Filter>,
        user_id: UserId,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<(TaskQuery, Option<Vec<String>>)> {
        let list = match self.list.take() {
            None => 0,
            Some(l) => {
                let n = filter.as_ref().map_or(0, |f| f.lists().len());
                match l.trim().parse::<usize>() {
                    Ok(i) if i < n => i,
                    _ if n == 0 => return Err(ValidationError::new("list", "list needs a filter").into()),
                    _ => {
                        return Err(ValidationError::new(
                            "list",
                            format!(
                                "list must be 0 to {} (the filter has {n} list{})",
                                n - 1,
                                if n == 1 { "" } else { "s" }
                            ),
                        )
                        .into());
                    }
                }
            }
        };
        let explicit_status = self.status.is_some();
        let mut q = self.into_fixed_query(user_id, now)?;
        q.tz = tz;
        let lists = filter.map(|f| {
            if !explicit_status {
                q.status = StatusFilter::All;
            }
            let ctx = Context::new(now, tz);
            q.filter = Some(f.lists()[list].cond(&ctx));
            (0..f.lists().len()).map(|i| f.list_source(i).unwrap_or_default().to_owned()).collect()
        });
        Ok((q, lists))
    }

    fn into_fixed_query(self, user_id: UserId, now: DateTime<Utc>) -> std::result::Result<TaskQuery, ValidationError> {
        let mut q = TaskQuery::new(user_id, now);
        if let Some(s) = self.status {
            q.status = StatusFilter::parse(&s)?;
        }
        if let Some(p) = self.priority {
            q.priority = Some(Priority::parse(&p)?);
        }
        if let Some(t) = self.tag {
            q.tag = Some(Tag::parse(&t).map_err(|e| ValidationError::new("tag", e.message))?);
        }
        if let Some(text) = self.q {
            q.text = TaskQuery::parse_text(&text)?;
        }
        if let Some(b) = self.due_before {
            q.due_before = Some(parse_instant("due_before", &b)?);
        }
        if let Some(a) = self.due_after {
            q.due_after = Some(parse_instant("due_after", &a)?);
        }
        if let Some(o) = self.overdue {
            q.overdue = match o.as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(ValidationError::new("overdue", format!("overdue must be true or false; got {o:?}"))),
            };
        }
        if let Some(s) = self.sort {
            q.sort = SortSpec::parse(&s)?;
        }
        if let Some(l) = self.limit {
            q.limit = PageLimit::parse(&l)?.get();
        }
        if let Some(c) = self.cursor {
            q.cursor = Some(Cursor::decode(&c, q.sort)?);
        }
        Ok(q)
    }
}

/// Every task use case, for one producing service.
#[derive(Clone)]
pub struct TaskService {
    tasks: Arc<dyn TaskRepository>,
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    events: EventFactory,
    timezones: TimezoneCache,
}

/// Users' time zones, read once: a user's time zone is set at registration and
/// never changes (no endpoint changes it), so a cached value is never stale. An
/// endpoint that lets users change it must forget the user here and in every
/// instance (or drop this cache).
#[derive(Clone, Default)]
struct TimezoneCache(Arc<std::sync::Mutex<HashMap<UserId, Timezone>>>);

/// Users whose time zone is kept; beyond it the cache starts over.
const TIMEZONES_KEPT: usize = 100_000;

impl TimezoneCache {
    fn get(&self, user: UserId) -> Option<Timezone> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&user).copied()
    }

    fn put(&self, user: UserId, tz: Timezone) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= TIMEZONES_KEPT {
            map.clear();
        }
        map.insert(user, tz);
    }
}

impl TaskService {
    /// The service over the task and user repositories, with `events` making the events of each change.
    pub fn new(
        tasks: Arc<dyn TaskRepository>,
        users: Arc<dyn UserRepository>,
        clock: Arc<dyn Clock>,
        events: EventFactory,
    ) -> Self {
        Self { tasks, users, clock, events, timezones: TimezoneCache::default() }
    }

    /// The clock the service stamps changes with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The task repository.
    pub fn repository(&self) -> &Arc<dyn TaskRepository> {
        &self.tasks
    }

    /// The user's time zone ([`Error::NotFound`] for an unknown user).
    pub async fn timezone(&self, user_id: UserId) -> Result<Timezone> {
        if let Some(tz) = self.timezones.get(user_id) {
            return Ok(tz);
        }
        let tz = self.users.by_id(user_id).await?.ok_or(Error::NotFound("user"))?.timezone;
        self.timezones.put(user_id, tz);
        Ok(tz)
    }

    /// Commits `change` (e.g. a planned one, with more added to it).
    pub async fn commit(&self, change: Change) -> Result<()> {
        self.tasks.commit(change).await
    }

    /// Creates a task ([`Task::new`]) for `user_id`, with its `created` event.
    pub async fn create(&self, user_id: UserId, new: NewTask) -> Result<Task> {
        let (task, change) = self.plan_create(user_id, new).await?;
        self.tasks.commit(change).await?;
        Ok(task)
    }

    /// The task [`TaskService::create`] would create and its change, uncommitted.
    pub async fn plan_create(&self, user_id: UserId, new: NewTask) -> Result<(Task, Change)> {
        let now = self.clock.now();
        let tz = self.timezone(user_id).await?;
        let task = Task::new(user_id, new, tz, now)?;
        let events = self.events.for_change(&TaskChange::Created, None, &task, now);
        let change = Change { writes: vec![TaskWrite::Insert(task.clone())], events, ..Change::default() };
        Ok((task, change))
    }

    /// One of the user's tasks ([`Error::NotFound`] if none, or another user's).
    pub async fn get(&self, user_id: UserId, id: TaskId) -> Result<Task> {
        self.tasks.get(user_id, id).await?.ok_or(Error::NotFound("task"))
    }

    /// One page of `query`.
    pub async fn list(&self, query: &TaskQuery) -> Result<TaskPage> {
        self.tasks.list(query).await
    }

    /// One page of the listing `params` asks for, in the user's time zone.
    pub async fn list_with(&self, user_id: UserId, mut params: ListParams) -> Result<TaskPage> {
        // A query that does not parse is refused before anything is read.
        let filter = params.take_filter()?;
        let tz = self.timezone(user_id).await?;
        let (q, lists) = params.into_query_of(filter, user_id, self.clock.now(), tz.tz())?;
        let mut page = self.tasks.list(&q).await?;
        page.lists = lists;
        Ok(page)
    }

    /// Applies `patch`. With `if_match`, fails with `VersionMismatch` unless the task
    /// is at that version; without, retries a few times if another writer races.
    pub async fn update(&self, user_id: UserId, id: TaskId, patch: TaskPatch, if_match: Option<i64>) -> Result<Task> {
        retrying(if_match, || async {
            self.commit_planned(self.plan_update(user_id, id, &patch, if_match).await?).await
        })
        .await
    }

    /// Marks the task completed (a no-op when it already is).
    pub async fn complete(&self, user_id: UserId, id: TaskId, if_match: Option<i64>) -> Result<Task> {
        self.set_status(user_id, id, if_match, Status::Completed).await
    }

    /// Marks the task pending again (a no-op when it is).
    pub async fn reopen(&self, user_id: UserId, id: TaskId, if_match: Option<i64>) -> Result<Task> {
        self.set_status(user_id, id, if_match, Status::Pending).await
    }

    async fn set_status(&self, user_id: UserId, id: TaskId, if_match: Option<i64>, status: Status) -> Result<Task> {
        retrying(if_match, || async {
            let before = self.get(user_id, id).await?;
            before.check_version(if_match)?;
            self.commit_planned(self.plan_status(&before, status)?).await
        })
        .await
    }

    /// Deletes one of the user's tasks (with `if_match`: only at that version); returns it as it was.
    pub async fn delete(&self, user_id: UserId, id: TaskId, if_match: Option<i64>) -> Result<Task> {
        retrying(if_match, || async {
            let task = self.get(user_id, id).await?;
            task.check_version(if_match)?;
            let change = self.plan_delete(&task);
            self.tasks.commit(change).await.map(|()| task)
        })
        .await
    }

    /// Commits a planned mutation's change, if any; returns the task after it.
    async fn commit_planned(&self, (after, change): (Task, Option<Change>)) -> Result<Task> {
        if let Some(change) = change {
            self.tasks.commit(change).await?;
        }
        Ok(after)
    }

    /// The task after `patch` and its change (`None` when nothing changed),
    /// uncommitted; reads the task (and checks `if_match`).
    pub async fn plan_update(
        &self,
        user_id: UserId,
        id: TaskId,
        patch: &TaskPatch,
        if_match: Option<i64>,
    ) -> Result<(Task, Option<Change>)> {
        let before = self.get(user_id, id).await?;
        before.check_version(if_match)?;
        let tz = self.timezone(user_id).await?;
        self.plan_patch(&before, patch, tz)
    }

    /// `task` after `patch` (dates in `tz`, the user's time zone) and its change
    /// (`None` when nothing changed), uncommitted.
    pub fn plan_patch(&self, task: &Task, patch: &TaskPatch, tz: Timezone) -> Result<(Task, Option<Change>)> {
        self.mutation(task, |task, _now| {
            let changes = task.apply_patch(patch, tz)?;
            Ok((!changes.is_empty()).then_some(TaskChange::Updated(changes)))
        })
    }

    /// `task` moved to `status` and its change (`None` when it is there already):
    /// completing sets `completed_at`, reopening clears it.
    pub fn plan_status(&self, task: &Task, status: Status) -> Result<(Task, Option<Change>)> {
        self.mutation(task, |task, now| {
            if !task.set_status(status, now) {
                return Ok(None);
            }
            Ok(Some(if status == Status::Completed { TaskChange::Completed } else { TaskChange::Reopened }))
        })
    }

    /// The deletion of `task`, uncommitted.
    pub fn plan_delete(&self, task: &Task) -> Change {
        let now = self.clock.now();
        let events = self.events.for_change(&TaskChange::Deleted, Some(task), task, now);
        let write = TaskWrite::Delete { user_id: task.user_id, id: task.id, expected_version: task.version };
        Change { writes: vec![write], events, ..Change::default() }
    }

    /// The re-insertion of `deleted` (a task as it was when it was deleted) with
    /// its id, one version later, uncommitted: an "undo" of the deletion. Its
    /// events are those of a creation, with `change_type` `restored` for live
    /// clients; a live reminder is scheduled again.
    pub fn plan_restore(&self, deleted: &Task) -> (Task, Change) {
        let now = self.clock.now();
        let task = Task { version: deleted.version + 1, updated_at: now, ..deleted.clone() };
        let events = self.events.for_change(&TaskChange::Restored, None, &task, now);
        (task.clone(), Change { writes: vec![TaskWrite::Insert(task)], events, ..Change::default() })
    }

    /// Changes a copy of `before` with `f` (which returns the kind of change, or
    /// `None` when nothing changed); the new version and its events.
    fn mutation<F>(&self, before: &Task, f: F) -> Result<(Task, Option<Change>)>
    where
        F: FnOnce(&mut Task, DateTime<Utc>) -> Result<Option<TaskChange>>,
    {
        let now = self.clock.now();
        let mut after = before.clone();
        let Some(change) = f(&mut after, now)? else {
            return Ok((before.clone(), None));
        };
        after.version = before.version + 1;
        after.updated_at = now;
        let events = self.events.for_change(&change, Some(before), &after, now);
        let write = TaskWrite::Update { task: after.clone(), expected_version: before.version };
        Ok((after, Some(Change { writes: vec![write], events, ..Change::default() })))
    }

    /// Creates the occurrence that follows `completed`, a completed occurrence of a
    /// recurring task, exactly once: the successor claims the key
    /// `successor:<completed id>` together with `claims` (e.g. the consumer's
    /// processed-event key). `Ok(None)` when there is nothing to create (not
    /// recurring, rule ended) or it was already created.
    pub async fn create_successor(&self, completed: &Task, claims: Vec<ProcessedKey>) -> Result<Option<Task>> {
        let Some((next, change)) = self.plan_successor(completed, claims).await? else {
            return Ok(None);
        };
        match self.tasks.commit(change).await {
            Ok(()) => Ok(Some(next)),
            Err(Error::Duplicate(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The successor [`TaskService::create_successor`] would create and its change
    /// (claiming `successor:<completed id>` and `claims`), uncommitted; `None` when
    /// there is nothing to create.
    pub async fn plan_successor(
        &self,
        completed: &Task,
        mut claims: Vec<ProcessedKey>,
    ) -> Result<Option<(Task, Change)>> {
        if completed.recurrence.is_none() || completed.completed_at.is_none() {
            return Ok(None);
        }
        let tz = self.timezone(completed.user_id).await?;
        let now = self.clock.now();
        let Some(next) = completed.successor(tz, now) else {
            return Ok(None);
        };
        claims.push(ProcessedKey::new("recurrence", format!("successor:{}", completed.id)));
        let events = self.events.for_change(&TaskChange::Created, None, &next, now);
        let change = Change { writes: vec![TaskWrite::Insert(next.clone())], events, claims, ..Change::default() };
        Ok(Some((next, change)))
    }
}

/// Runs `attempt` (read, check, commit). Without `if_match`, an attempt whose
/// commit lost a race with another writer (`VersionMismatch`) is made again, up to
/// `UPDATE_ATTEMPTS` in all; with it, the mismatch is the answer.
pub async fn retrying<T, Fut>(if_match: Option<i64>, mut attempt: impl FnMut() -> Fut) -> Result<T>
where
    Fut: Future<Output = Result<T>>,
{
    for n in 1..=UPDATE_ATTEMPTS {
        match attempt().await {
            Err(Error::VersionMismatch { .. }) if if_match.is_none() && n < UPDATE_ATTEMPTS => continue,
            other => return other,
        }
    }
    unreachable!("the loop returns on its last attempt")
}
