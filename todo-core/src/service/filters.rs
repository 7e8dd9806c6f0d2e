//! `FilterService`: a user's saved filters (create, read, list, rename, change,
//! delete) and the tasks each one shows.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::saved_filter::{SAVED_FILTERS_MAX, name_key};
use crate::domain::{FilterId, FilterName, FilterQuery, SavedFilter, TaskPage, UserId, ValidationError};
use crate::ports::{Clock, SavedFilterStore};
use crate::service::{ListParams, TaskService};
use crate::{Error, Result};

/// `POST /api/v1/filters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSavedFilter {
    /// 1 to 100 characters; unique among the user's filters regardless of case and spacing.
    #[schema(example = "work today")]
    pub name: String,
    /// A filter query (docs/filters.md).
    #[schema(example = "(today | overdue) & #work & !p3")]
    pub query: String,
}

/// `PATCH /api/v1/filters/{id}`: either field, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedFilterPatch {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new query.
    #[serde(default)]
    pub query: Option<String>,
}

/// `GET /api/v1/filters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SavedFilterList {
    /// By name.
    pub items: Vec<SavedFilter>,
}

/// `GET /api/v1/filters/{id}/tasks` query parameters: the order and the page of
/// the filter's tasks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FilterTasksParams {
    /// `due_at` (default), `priority`, `created_at`, `title`; `-` prefix for descending.
    pub sort: Option<String>,
    /// 1..=200, default 50.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Which of the filter's comma-separated lists (0-based, default 0).
    pub list: Option<String>,
}

/// Saved filters of every user, each scoped to its owner.
#[derive(Clone)]
pub struct FilterService {
    tasks: TaskService,
    filters: Arc<dyn SavedFilterStore>,
    clock: Arc<dyn Clock>,
}

impl FilterService {
    /// The service over the task service and the filter store.
    pub fn new(tasks: TaskService, filters: Arc<dyn SavedFilterStore>) -> Self {
        let clock = tasks.clock().clone();
        Self { tasks, filters, clock }
    }

    /// Saves a filter (at most `SAVED_FILTERS_MAX` per user; the store refuses a name already taken).
    pub async fn create(&self, user_id: UserId, new: NewSavedFilter) -> Result<SavedFilter> {
        let name = FilterName::parse(&new.name)?;
        let query = FilterQuery::parse(&new.query)?;
        if self.filters.list(user_id).await?.len() >= SAVED_FILTERS_MAX {
            return Err(ValidationError::new(
                "name",
                format!("you have {SAVED_FILTERS_MAX} saved filters, the most there can be; delete one first"),
            )
            .into());
        }
        let now = self.clock.now();
        let f = SavedFilter { id: FilterId::new(), user_id, name, query, created_at: now, updated_at: now };
        self.filters.create(&f).await?;
        Ok(f)
    }

    /// One of the user's filters ([`Error::NotFound`] if none).
    pub async fn get(&self, user_id: UserId, id: FilterId) -> Result<SavedFilter> {
        self.filters.get(user_id, id).await?.ok_or(Error::NotFound("filter"))
    }

    /// The user's filters.
    pub async fn list(&self, user_id: UserId) -> Result<Vec<SavedFilter>> {
        self.filters.list(user_id).await
    }

    /// The user's filter named `name` (compared regardless of case and spacing).
    pub async fn by_name(&self, user_id: UserId, name: &str) -> Result<Option<SavedFilter>> {
        let key = name_key(name);
        Ok(self.filters.list(user_id).await?.into_iter().find(|f| f.name.key() == key))
    }

    /// Renames a filter or changes its query.
    pub async fn update(&self, user_id: UserId, id: FilterId, patch: SavedFilterPatch) -> Result<SavedFilter> {
        let name = patch.name.as_deref().map(FilterName::parse).transpose()?;
        let query = patch.query.as_deref().map(FilterQuery::parse).transpose()?;
        let mut f = self.get(user_id, id).await?;
        if let Some(n) = name {
            f.name = n;
        }
        if let Some(q) = query {
            f.query = q;
        }
        f.updated_at = self.clock.now();
        self.filters.update(&f).await?;
        Ok(f)
    }

    /// Deletes one of the user's filters.
    pub async fn delete(&self, user_id: UserId, id: FilterId) -> Result<()> {
        self.filters.delete(user_id, id).await
    }

    /// One page of the tasks the user's filter `id` shows.
    pub async fn tasks(&self, user_id: UserId, id: FilterId, p: FilterTasksParams) -> Result<TaskPage> {
        let f = self.get(user_id, id).await?;
        let params = ListParams {
            sort: p.sort,
            limit: p.limit,
            cursor: p.cursor,
            list: p.list,
            filter: Some(f.query.as_str().to_owned()),
            ..ListParams::default()
        };
        self.tasks.list_with(user_id, params).await
    }
}
