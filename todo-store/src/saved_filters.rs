//! Saved filters on both backends. Every read and write is scoped to the filter's
//! user: another user's filter does not exist.

use async_trait::async_trait;
use todo_core::domain::{FilterId, FilterName, FilterQuery, SavedFilter, UserId};
use todo_core::ports::{SavedFilterStore, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::sql::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::writer::Lane;

/// The columns [`read`] reads.
const COLUMNS: &str = "id, user_id, name, query, created_at, updated_at";

fn name_taken(f: &SavedFilter) -> impl FnOnce(&str) -> StoreError + '_ {
    move |_| StoreError::Conflict(format!("you have a filter named {:?}", f.name.as_str()))
}

#[async_trait]
impl<B: Backend> SavedFilterStore for SqlStore<B> {
    async fn create(&self, f: &SavedFilter) -> todo_core::Result<()> {
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
        self.write_one(Lane::Foreground, s).await.map_err(|e| e.on_unique(name_taken(f)))?;
        Ok(())
    }

    async fn get(&self, user_id: UserId, id: FilterId) -> todo_core::Result<Option<SavedFilter>> {
        let s = Stmt::new(
            format!("SELECT {COLUMNS} FROM saved_filters WHERE id = $1 AND user_id = $2"),
            vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
        );
        let row = self.backend().connection().await?.row(&s).await?;
        Ok(row.map(|r| read(&r)).transpose()?)
    }

    async fn list(&self, user_id: UserId) -> todo_core::Result<Vec<SavedFilter>> {
        let s = Stmt::new(
            format!("SELECT {COLUMNS} FROM saved_filters WHERE user_id = $1 ORDER BY name_key, id"),
            vec![Arg::Uuid(user_id.as_uuid())],
        );
        let rows = self.backend().connection().await?.rows(&s).await?;
        Ok(rows.iter().map(read).collect::<Result<_>>()?)
    }

    async fn update(&self, f: &SavedFilter) -> todo_core::Result<()> {
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
        match self.write_one(Lane::Foreground, s).await.map_err(|e| e.on_unique(name_taken(f)))? {
            0 => Err(StoreError::NotFound("filter").into()),
            _ => Ok(()),
        }
    }

    async fn delete(&self, user_id: UserId, id: FilterId) -> todo_core::Result<()> {
        let s = Stmt::new(
            "DELETE FROM saved_filters WHERE id = $1 AND user_id = $2",
            vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
        );
        match self.write_one(Lane::Foreground, s).await? {
            0 => Err(StoreError::NotFound("filter").into()),
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
