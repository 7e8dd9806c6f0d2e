//! Saved filters on both backends. Every read and write is scoped to the filter's
//! user: another user's filter does not exist.

use todo_core::domain::{FilterId, FilterName, FilterQuery, SavedFilter, UserId};
use todo_core::ports::truncate_micros;

use crate::engine::{Backend, Engine, write_one};
use crate::error::{Result, StoreError};
use crate::rows::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

/// The columns [`read`] reads.
const COLUMNS: &str = "id, user_id, name, query, created_at, updated_at";

fn name_taken(f: &SavedFilter) -> impl FnOnce(&str) -> StoreError + '_ {
    move |_| StoreError::Conflict(format!("you have a filter named {:?}", f.name.as_str()))
}

impl<B: Backend> Engine<B> {
    pub async fn create_saved_filter(&self, f: &SavedFilter) -> Result<()> {
        let s = Stmt::new(
            format!("INSERT INTO saved_filters ({COLUMNS}, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            vec![
                Arg::Uuid(f.id.as_uuid()),
                Arg::Uuid(f.user_id.as_uuid()),
                Arg::Text(f.name.as_str().to_owned()),
                Arg::Text(f.query.as_str().to_owned()),
                Arg::Time(truncate_micros(f.created_at)),
                Arg::Time(truncate_micros(f.updated_at)),
                Arg::Text(f.name.key()),
            ],
        );
        write_one(&self.backend, Lane::Foreground, s).await.map_err(|e| e.on_unique(name_taken(f))).map(drop)
    }

    pub async fn saved_filter(&self, user_id: UserId, id: FilterId) -> Result<Option<SavedFilter>> {
        let s = Stmt::new(
            format!("SELECT {COLUMNS} FROM saved_filters WHERE id = $1 AND user_id = $2"),
            vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
        );
        let row = self.backend.connection().await?.row(&s).await?;
        row.map(|r| read(&r)).transpose()
    }

    pub async fn saved_filters(&self, user_id: UserId) -> Result<Vec<SavedFilter>> {
        let s = Stmt::new(
            format!("SELECT {COLUMNS} FROM saved_filters WHERE user_id = $1 ORDER BY name_key, id"),
            vec![Arg::Uuid(user_id.as_uuid())],
        );
        let rows = self.backend.connection().await?.rows(&s).await?;
        rows.iter().map(read).collect()
    }

    pub async fn update_saved_filter(&self, f: &SavedFilter) -> Result<()> {
        let s = Stmt::new(
            "UPDATE saved_filters SET name = $1, name_key = $2, query = $3, updated_at = $4 WHERE id = $5 AND user_id = $6",
            vec![
                Arg::Text(f.name.as_str().to_owned()),
                Arg::Text(f.name.key()),
                Arg::Text(f.query.as_str().to_owned()),
                Arg::Time(truncate_micros(f.updated_at)),
                Arg::Uuid(f.id.as_uuid()),
                Arg::Uuid(f.user_id.as_uuid()),
            ],
        );
        match write_one(&self.backend, Lane::Foreground, s).await.map_err(|e| e.on_unique(name_taken(f)))? {
            0 => Err(StoreError::NotFound("filter")),
            _ => Ok(()),
        }
    }

    pub async fn delete_saved_filter(&self, user_id: UserId, id: FilterId) -> Result<()> {
        let s = Stmt::new(
            "DELETE FROM saved_filters WHERE id = $1 AND user_id = $2",
            vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
        );
        match write_one(&self.backend, Lane::Foreground, s).await? {
            0 => Err(StoreError::NotFound("filter")),
            _ => Ok(()),
        }
    }
}

/// Reads the [`COLUMNS`] of a row.
fn read(row: &impl RowExt) -> Result<SavedFilter> {
    let id = FilterId(row.uuid("id")?);
    let bad = |field: &str, e: &dyn std::fmt::Display| StoreError::corrupt(format!("saved filter {id}: {field}: {e}"));
    Ok(SavedFilter {
        id,
        user_id: UserId(row.uuid("user_id")?),
        name: FilterName::parse(&row.text("name")?).map_err(|e| bad("name", &e))?,
        query: FilterQuery::parse(&row.text("query")?).map_err(|e| bad("query", &e))?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// Implements `SavedFilterStore` for a store with a field `engine: Arc<Engine<_>>`.
macro_rules! impl_saved_filter_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl ::todo_core::ports::SavedFilterStore for $store {
            async fn create(&self, f: &::todo_core::domain::SavedFilter) -> ::todo_core::Result<()> {
                Ok(self.engine.create_saved_filter(f).await?)
            }

            async fn get(
                &self,
                user_id: ::todo_core::domain::UserId,
                id: ::todo_core::domain::FilterId,
            ) -> ::todo_core::Result<Option<::todo_core::domain::SavedFilter>> {
                Ok(self.engine.saved_filter(user_id, id).await?)
            }

            async fn list(
                &self,
                user_id: ::todo_core::domain::UserId,
            ) -> ::todo_core::Result<Vec<::todo_core::domain::SavedFilter>> {
                Ok(self.engine.saved_filters(user_id).await?)
            }

            async fn update(&self, f: &::todo_core::domain::SavedFilter) -> ::todo_core::Result<()> {
                Ok(self.engine.update_saved_filter(f).await?)
            }

            async fn delete(
                &self,
                user_id: ::todo_core::domain::UserId,
                id: ::todo_core::domain::FilterId,
            ) -> ::todo_core::Result<()> {
                Ok(self.engine.delete_saved_filter(user_id, id).await?)
            }
        }
    };
}
pub(crate) use impl_saved_filter_store;
