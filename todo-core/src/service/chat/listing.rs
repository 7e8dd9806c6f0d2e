//! Listings in chat: the fixed arguments, a filter query, or a saved list by name
//! ("show my work today list"), each list of a query shown one after the other
//! and numbered on, so that "task 3" means the third task shown; and "save this
//! as ...", which saves the last listing's query under a name.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{ChatService, LISTING_MAX, Outcome, describe, refused, task_json};
use crate::chat::{ListTasksArgs, SaveFilterArgs};
use crate::domain::query::{SortSpec, StatusFilter, TaskQuery};
use crate::domain::{Action, Conversation, Role, Task, Timezone, UserId};
use crate::filter::{Context, Filter};
use crate::service::filters::{NewSavedFilter, SavedFilterPatch};
use crate::{Error, Result};

/// Messages read per page when looking back for the last listing.
const HISTORY_PAGE: u32 = 200;

/// What a listing runs: one query per list, each with its heading when there are
/// several, and the query text to remember for "save this as ...".
struct Plan {
    lists: Vec<(Option<String>, TaskQuery)>,
    query: Option<String>,
    /// The saved list it shows, by name.
    saved: Option<String>,
    /// The words named a saved list that does not exist, and meant nothing else.
    missing: Option<String>,
}

impl ChatService {
    pub(super) async fn list(
        &self,
        user: UserId,
        tz: Timezone,
        l: ListTasksArgs,
        action: impl Fn(&str, Value) -> Action,
    ) -> Result<Outcome> {
        let now = self.clock.now();
        let plan = match self.plan(user, tz, &l, now).await? {
            Ok(plan) => plan,
            Err(outcome) => return Ok(outcome),
        };
        if let Some(name) = &plan.missing {
            return self.no_such_list(user, name).await;
        }
        let mut items: Vec<Task> = Vec::new();
        let mut sections = Vec::new();
        let mut more = false;
        for (heading, q) in &plan.lists {
            let page = self.tasks.list(q).await?;
            more |= page.next_cursor.is_some();
            sections.push((heading.clone(), items.len(), page.items.len()));
            items.extend(page.items);
        }
        let reply = self.listing_reply(&l, &plan, &items, &sections, more, tz, now);
        let mut result = json!({ "items": items.iter().map(task_json).collect::<Vec<_>>() });
        if let Some(query) = &plan.query {
            result["filter"] = json!(query);
        }
        Ok(Outcome {
            reply,
            actions: vec![action("list_tasks", result)],
            listing: Some(items.iter().map(|t| t.id).collect()),
            ..Outcome::default()
        })
    }

    /// The tasks a listing with `l` shows (its filter or saved list included), in
    /// its order, at most `limit` (`pending`: only pending ones): what a bulk
    /// action changes. `Err` with what to say when the listing shows nothing it
    /// could read.
    pub(super) async fn matching(
        &self,
        user: UserId,
        tz: Timezone,
        l: &ListTasksArgs,
        pending: bool,
        limit: usize,
    ) -> Result<std::result::Result<Vec<Task>, Outcome>> {
        let plan = match self.plan(user, tz, l, self.clock.now()).await? {
            Ok(plan) => plan,
            Err(outcome) => return Ok(Err(outcome)),
        };
        if let Some(name) = &plan.missing {
            return Ok(Err(self.no_such_list(user, name).await?));
        }
        let mut items: Vec<Task> = Vec::new();
        for (_, q) in plan.lists {
            if items.len() >= limit {
                break;
            }
            let mut q = q;
            q.limit = u32::try_from(limit - items.len()).unwrap_or(u32::MAX);
            if pending {
                q.status = StatusFilter::Pending;
            }
            for t in self.tasks.list(&q).await?.items {
                // A task shown by two lists of a query is changed once.
                if !items.iter().any(|i| i.id == t.id) {
                    items.push(t);
                }
            }
        }
        Ok(Ok(items))
    }

    async fn no_such_list(&self, user: UserId, name: &str) -> Result<Outcome> {
        let names = self.saved_names(user).await?;
        let known = if names.is_empty() {
            "You have no saved lists yet: show a list, then say \"save this as ...\".".to_owned()
        } else {
            format!("Your saved lists: {}.", names.join(", "))
        };
        Ok(Outcome::say(format!("You have no saved list called '{name}'. {known}")))
    }

    /// The queries of a listing; `Err` with what to say when its filter does not parse.
    async fn plan(
        &self,
        user: UserId,
        tz: Timezone,
        l: &ListTasksArgs,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<Plan, Outcome>> {
        let ctx = Context::new(now, tz.tz());
        let query = |cond| {
            let mut q = TaskQuery::new(user, now);
            q.tz = tz.tz();
            q.status = StatusFilter::All;
            q.filter = Some(cond);
            q.limit = LISTING_MAX;
            q.sort = SortSpec::default();
            q
        };
        let of_filter = |f: &Filter| {
            let many = f.lists().len() > 1;
            f.lists()
                .iter()
                .enumerate()
                .map(|(i, list)| {
                    (many.then(|| f.list_source(i).unwrap_or_default().to_owned()), query(list.cond(&ctx)))
                })
                .collect::<Vec<_>>()
        };
        if let (Some(name), Some(filters)) = (&l.list, &self.filters)
            && let Some(saved) = filters.by_name(user, name).await?
        {
            let f = saved.query.filter();
            return Ok(Ok(Plan {
                lists: of_filter(&f),
                query: Some(saved.query.as_str().to_owned()),
                saved: Some(saved.name.as_str().to_owned()),
                missing: None,
            }));
        }
        if l.list.is_some() && l.phrase.is_none() && l.filter.is_none() {
            return Ok(Ok(Plan { lists: vec![], query: None, saved: None, missing: l.list.clone() }));
        }
        if let Some(text) = &l.filter {
            return Ok(match Filter::parse(text) {
                Ok(f) => Ok(Plan { lists: of_filter(&f), query: Some(f.to_string()), saved: None, missing: None }),
                Err(e) => Err(Outcome::say(format!("I couldn't read that filter: {}.", e.message))),
            });
        }
        let mut q = TaskQuery::new(user, now);
        q.tz = tz.tz();
        q.status = l.status;
        q.priority = l.priority;
        q.tag = l.tag.clone();
        q.due_after = l.due_after;
        q.due_before = l.due_before;
        q.overdue = l.overdue;
        q.text = l.query.as_deref().map(str::to_lowercase);
        q.limit = LISTING_MAX;
        q.sort = SortSpec::default();
        let phrase = l.phrase.clone().or_else(|| fixed_query(l, &ctx));
        Ok(Ok(Plan { lists: vec![(None, q)], query: phrase, saved: None, missing: None }))
    }

    #[allow(clippy::too_many_arguments)]
    fn listing_reply(
        &self,
        l: &ListTasksArgs,
        plan: &Plan,
        items: &[Task],
        sections: &[(Option<String>, usize, usize)],
        more: bool,
        tz: Timezone,
        now: DateTime<Utc>,
    ) -> String {
        let plus = if more { "+" } else { "" };
        let n = items.len();
        let tasks = |n: usize| if n == 1 { "task".to_owned() } else { "tasks".to_owned() };
        let mut s = match (&plan.saved, &l.filter) {
            (Some(name), _) if n == 0 => return format!("Your list '{name}' is empty right now."),
            (Some(name), _) => format!("Your list '{name}' has {n}{plus} {}:", tasks(n)),
            (None, Some(_)) if n == 0 => {
                return format!("No tasks match {}.", plan.query.as_deref().unwrap_or_default());
            }
            (None, Some(_)) => {
                format!("{n}{plus} {} match {}:", tasks(n), plan.query.as_deref().unwrap_or_default())
            }
            (None, None) => {
                let what = match l.status {
                    StatusFilter::Pending => "pending tasks",
                    StatusFilter::Completed => "completed tasks",
                    StatusFilter::All => "tasks",
                };
                match n {
                    0 => return format!("You have no {what}{}.", if is_filtered(l) { " matching that" } else { "" }),
                    1 => format!("You have 1 {}:", what.trim_end_matches('s')),
                    n => format!("You have {n}{plus} {what}:"),
                }
            }
        };
        for (heading, from, count) in sections {
            if let Some(h) = heading {
                s.push_str(&format!("\n{h}:{}", if *count == 0 { " nothing" } else { "" }));
            }
            for (i, t) in items[*from..from + count].iter().enumerate() {
                s.push_str(&format!("\n{}. {}", from + i + 1, describe(t, tz, now)));
            }
        }
        s
    }

    async fn saved_names(&self, user: UserId) -> Result<Vec<String>> {
        Ok(match &self.filters {
            Some(f) => f.list(user).await?.into_iter().map(|f| format!("'{}'", f.name)).collect(),
            None => vec![],
        })
    }

    /// "save this as ...": the last listing's query, saved (or updated) under `a.name`.
    pub(super) async fn save_listing(
        &self,
        user: UserId,
        conv: &Conversation,
        a: SaveFilterArgs,
        action: impl Fn(&str, Value) -> Action,
    ) -> Result<Outcome> {
        let Some(filters) = &self.filters else {
            return Ok(Outcome::say("Saved lists are not available here."));
        };
        let Some(query) = self.last_listing_query(user, conv).await? else {
            return Ok(Outcome::say(
                "Show a list first (for example \"show (overdue or today) #work\"), then say \"save this as ...\".",
            ));
        };
        let saved = match filters.by_name(user, &a.name).await? {
            Some(existing) => {
                let patch = SavedFilterPatch { name: None, query: Some(query.clone()) };
                filters.update(user, existing.id, patch).await.map(|f| (f, true))
            }
            None => filters
                .create(user, NewSavedFilter { name: a.name.clone(), query: query.clone() })
                .await
                .map(|f| (f, false)),
        };
        match saved {
            Ok((f, updated)) => {
                let verb = if updated { "Updated your list" } else { "Saved this list as" };
                Ok(Outcome {
                    reply: format!(
                        "{verb} '{}' ({}). Say \"show my {} list\" to see it again.",
                        f.name,
                        f.query.as_str(),
                        f.name
                    ),
                    actions: vec![action("save_filter", serde_json::to_value(&f).unwrap_or(Value::Null))],
                    ..Outcome::default()
                })
            }
            Err(Error::Validation(v)) => Ok(refused(action("save_filter", json!({"error": v.message})), &v.message)),
            Err(Error::InvalidFilter(e)) => Ok(refused(action("save_filter", json!({"error": e.message})), &e.message)),
            Err(e) => Err(e),
        }
    }

    /// The query of the last listing shown in the conversation, if any.
    async fn last_listing_query(&self, user: UserId, conv: &Conversation) -> Result<Option<String>> {
        let mut last = None;
        let mut after = 0;
        loop {
            let page = match self.conversations.messages(user, conv.id, after, HISTORY_PAGE).await {
                Ok(page) => page,
                // A conversation this turn starts is stored with the turn: nothing before it.
                Err(Error::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            for m in &page {
                if m.role != Role::Assistant {
                    continue;
                }
                if let Some(q) = m
                    .actions
                    .iter()
                    .rev()
                    .find(|a| a.tool == "list_tasks")
                    .and_then(|a| a.result.get("filter"))
                    .and_then(Value::as_str)
                {
                    last = Some(q.to_owned());
                }
            }
            match page.last() {
                Some(m) if page.len() == HISTORY_PAGE as usize => after = m.seq,
                _ => return Ok(last),
            }
        }
    }
}

/// Whether a fixed-argument listing filters anything.
fn is_filtered(l: &ListTasksArgs) -> bool {
    l.priority.is_some()
        || l.tag.is_some()
        || l.due_after.is_some()
        || l.due_before.is_some()
        || l.overdue
        || l.query.is_some()
}

/// The fixed arguments as a filter query (for an interpreter that gave no
/// relative phrase): local midnights as dates, other bounds as instants.
fn fixed_query(l: &ListTasksArgs, ctx: &Context) -> Option<String> {
    let mut terms = Vec::new();
    match l.status {
        StatusFilter::Pending => {}
        StatusFilter::Completed => terms.push("completed".to_owned()),
        StatusFilter::All => terms.push("status:all".to_owned()),
    }
    if let Some(p) = l.priority {
        terms.push(format!("priority:{}", p.as_str()));
    }
    if let Some(t) = &l.tag {
        terms.push(format!("#{t}"));
    }
    if let Some(q) = &l.query {
        terms.push(format!("search: {}", crate::filter::ast::quoted(q)));
    }
    if l.overdue {
        terms.push("overdue".to_owned());
    }
    let when = |t: DateTime<Utc>| {
        let day = ctx.day_of(t);
        if ctx.midnight(day) == t { day.to_string() } else { t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true) }
    };
    let today = ctx.today();
    match (l.due_after, l.due_before) {
        (Some(a), Some(b)) if a == ctx.midnight(today) && Some(b) == next_midnight(ctx, 1) => {
            terms.push("today".into());
        }
        (Some(a), Some(b)) if Some(a) == next_midnight(ctx, 1) && Some(b) == next_midnight(ctx, 2) => {
            terms.push("tomorrow".into());
        }
        (a, b) => {
            if let Some(a) = a {
                terms.push(format!("due >= {}", when(a)));
            }
            if let Some(b) = b {
                terms.push(format!("due < {}", when(b)));
            }
        }
    }
    let text = if terms.is_empty() { "pending".to_owned() } else { terms.join(" & ") };
    Filter::parse(&text).ok().map(|f| f.to_string())
}

fn next_midnight(ctx: &Context, n: u64) -> Option<DateTime<Utc>> {
    ctx.midnight_in(n)
}
