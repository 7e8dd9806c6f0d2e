//! Chat conversations and their messages on both backends. Every read and write is
//! scoped to the conversation's user: another user's conversation does not exist.

use std::sync::Arc;

use async_trait::async_trait;
use todo_core::domain::{Action, Conversation, ConversationId, Message, Role, TaskId, UserId};
use todo_core::ports::{ChatTurn, ConversationStore, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::sql::RowExt;
use crate::sql::{Arg, Dialect, Exec, Stmt};
use crate::writer::Lane;

/// The columns [`read_conversation`] reads.
const CONVERSATION_COLUMNS: &str = "id, user_id, created_at, updated_at, last_listing, context, version";
/// The columns [`read_message`] reads.
const MESSAGE_COLUMNS: &str = "conversation_id, seq, role, content, actions, created_at";

#[async_trait]
impl<B: Backend> ConversationStore for SqlStore<B> {
    /// Stores a new conversation; [`StoreError::Conflict`] if its id exists.
    async fn create(&self, c: &Conversation) -> todo_core::Result<()> {
        self.write_one(Lane::Foreground, insert(c))
            .await
            .map_err(|e| e.on_unique(|_| StoreError::Conflict(format!("conversation {} exists", c.id))))?;
        Ok(())
    }

    /// The conversation if it exists and belongs to `user_id`.
    async fn get(&self, user_id: UserId, id: ConversationId) -> todo_core::Result<Option<Conversation>> {
        let s = Stmt::new(
            format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2"),
            vec![Arg::Uuid(id.0), Arg::Uuid(user_id.as_uuid())],
        );
        let row = self.backend().connection().await?.row(&s).await?;
        Ok(row.map(|r| read_conversation(&r)).transpose()?)
    }

    /// Saves `last_listing`, `context`, `updated_at` and `version` of the user's conversation `c.id`.
    async fn save(&self, c: &Conversation) -> todo_core::Result<()> {
        match self.write_one(Lane::Foreground, save(c)).await? {
            0 => Err(StoreError::NotFound("conversation").into()),
            _ => Ok(()),
        }
    }

    /// Appends `m` to the user's conversation with the next `seq`.
    async fn append(&self, user_id: UserId, m: &Message) -> todo_core::Result<Message> {
        let dialect = self.backend().dialect();
        let m = Arc::new(m.clone());
        let appended = self
            .write(Lane::Foreground, false, move |c| {
                let m = m.clone();
                Box::pin(async move { append(c, dialect, user_id, &m).await })
            })
            .await?;
        Ok(appended)
    }

    /// Messages of the user's conversation with `seq > after_seq`, oldest first.
    async fn messages(
        &self,
        user_id: UserId,
        id: ConversationId,
        after_seq: i64,
        limit: u32,
    ) -> todo_core::Result<Vec<Message>> {
        let mut conn = self.backend().connection().await?;
        if !owns(&mut *conn, "", user_id, id).await? {
            return Err(StoreError::NotFound("conversation").into());
        }
        let s = Stmt::new(
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            vec![Arg::Uuid(id.0), Arg::Int(after_seq), Arg::Int(i64::from(limit))],
        );
        let rows = conn.rows(&s).await?;
        Ok(rows.iter().map(read_message).collect::<Result<_>>()?)
    }
}

/// Records a chat turn inside an open write transaction: creates or saves the
/// conversation, then appends the turn's messages.
pub(crate) async fn record_turn<C: Exec>(c: &mut C, turn: &ChatTurn) -> Result<()> {
    let conv = &turn.conversation;
    if turn.new_conversation {
        c.run(&insert(conv))
            .await
            .map_err(|e| e.on_unique(|_| StoreError::Conflict(format!("conversation {} exists", conv.id))))?;
    } else if c.run(&save_turn(conv)).await? == 0 {
        // No such conversation of this user, or another turn saved it first.
        let s = Stmt::new(
            "SELECT version FROM conversations WHERE id = $1 AND user_id = $2",
            vec![Arg::Uuid(conv.id.0), Arg::Uuid(conv.user_id.as_uuid())],
        );
        return Err(match c.row(&s).await? {
            Some(row) => StoreError::VersionMismatch { current: row.int("version")? },
            None => StoreError::NotFound("conversation"),
        });
    }
    // The conversation is the user's and its row is locked by the statement
    // above (as `append`'s ownership check would lock it): the messages follow
    // in one statement.
    if !turn.messages.is_empty() {
        c.run(&append_all(conv.id, &turn.messages)?).await?;
    }
    Ok(())
}

/// One `INSERT` of `messages` (at least one), in order, after the conversation's
/// last `seq`; it returns their `seq`s.
fn append_all(id: ConversationId, messages: &[Message]) -> Result<Stmt> {
    let mut s = Stmt::new(
        format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS}) \
             SELECT $1, last.seq + m.k, m.role, m.content, m.actions, m.created_at \
             FROM (SELECT COALESCE(MAX(seq), 0) AS seq FROM messages WHERE conversation_id = $1) AS last, ("
        ),
        vec![Arg::Uuid(id.0)],
    );
    for (k, m) in messages.iter().enumerate() {
        let actions =
            serde_json::to_value(&m.actions).map_err(|e| StoreError::Internal(format!("actions to JSON: {e}")))?;
        let p = [
            Arg::Int(k as i64 + 1),
            Arg::Text(m.role.as_str().to_owned()),
            Arg::Text(m.content.clone()),
            Arg::Json(actions),
            Arg::Time(truncate_micros(m.created_at)),
        ]
        .map(|a| s.bind(a));
        s.push(&format!(
            "{}SELECT {} AS k, {} AS role, {} AS content, {} AS actions, {} AS created_at",
            if k == 0 { "" } else { " UNION ALL " },
            p[0],
            p[1],
            p[2],
            p[3],
            p[4]
        ));
    }
    s.push(") AS m RETURNING seq");
    Ok(s)
}

/// `INSERT` of a new conversation.
fn insert(c: &Conversation) -> Stmt {
    Stmt::new(
        format!("INSERT INTO conversations ({CONVERSATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        vec![
            Arg::Uuid(c.id.0),
            Arg::Uuid(c.user_id.as_uuid()),
            Arg::Time(truncate_micros(c.created_at)),
            Arg::Time(truncate_micros(c.updated_at)),
            Arg::Json(listing_json(&c.last_listing)),
            Arg::Json(context_json(c)),
            Arg::Int(c.version),
        ],
    )
}

/// `UPDATE` of the user's conversation's `last_listing`, `context`, `updated_at` and `version`.
fn save(c: &Conversation) -> Stmt {
    Stmt::new(
        "UPDATE conversations SET last_listing = $1, context = $2, updated_at = $3, version = $4 \
         WHERE id = $5 AND user_id = $6",
        vec![
            Arg::Json(listing_json(&c.last_listing)),
            Arg::Json(context_json(c)),
            Arg::Time(truncate_micros(c.updated_at)),
            Arg::Int(c.version),
            Arg::Uuid(c.id.0),
            Arg::Uuid(c.user_id.as_uuid()),
        ],
    )
}

/// [`save`] of a turn: only over the version before it (`c.version - 1`).
fn save_turn(c: &Conversation) -> Stmt {
    let mut s = save(c);
    s.sql.push_str(" AND version = $7");
    s.args.push(Arg::Int(c.version - 1));
    s
}

fn context_json(c: &Conversation) -> serde_json::Value {
    serde_json::to_value(&c.context).unwrap_or_else(|_| serde_json::json!({}))
}

/// Whether conversation `id` is `user_id`'s; `lock` is appended to the query.
async fn owns<C: Exec>(c: &mut C, lock: &str, user_id: UserId, id: ConversationId) -> Result<bool> {
    let s = Stmt::new(
        format!("SELECT id FROM conversations WHERE id = $1 AND user_id = $2{lock}"),
        vec![Arg::Uuid(id.0), Arg::Uuid(user_id.as_uuid())],
    );
    Ok(c.row(&s).await?.is_some())
}

/// Appends inside an open write transaction. The conversation's row is locked
/// first (PostgreSQL), so concurrent appends take consecutive `seq`s.
async fn append<C: Exec>(c: &mut C, dialect: Dialect, user_id: UserId, m: &Message) -> Result<Message> {
    if !owns(c, dialect.lock_row(), user_id, m.conversation_id).await? {
        return Err(StoreError::NotFound("conversation"));
    }
    let s = append_all(m.conversation_id, std::slice::from_ref(m))?;
    let seq = match c.row(&s).await? {
        Some(row) => row.int("seq")?,
        None => return Err(StoreError::Internal("INSERT ... RETURNING seq returned no row".into())),
    };
    Ok(Message { seq, created_at: truncate_micros(m.created_at), ..m.clone() })
}

fn listing_json(listing: &[TaskId]) -> serde_json::Value {
    listing.iter().map(|t| serde_json::Value::String(t.to_string())).collect()
}

/// Reads the [`CONVERSATION_COLUMNS`] of a row.
fn read_conversation(row: &impl RowExt) -> Result<Conversation> {
    let id = ConversationId(row.uuid("id")?);
    let last_listing = serde_json::from_value(row.json("last_listing")?)
        .map_err(|e| StoreError::corrupt(format!("conversation {id}: last_listing: {e}")))?;
    // What the conversation remembers is a convenience: a context this version
    // cannot read (written by a newer one, say) is forgotten, not an error.
    let context = serde_json::from_value(row.json("context")?).unwrap_or_default();
    Ok(Conversation {
        id,
        user_id: UserId(row.uuid("user_id")?),
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        last_listing,
        context,
        version: row.int("version")?,
    })
}

/// Reads the [`MESSAGE_COLUMNS`] of a row.
fn read_message(row: &impl RowExt) -> Result<Message> {
    let conversation_id = ConversationId(row.uuid("conversation_id")?);
    let seq = row.int("seq")?;
    let bad = |field: &str, e: &dyn std::fmt::Display| {
        StoreError::corrupt(format!("message {seq} of conversation {conversation_id}: {field}: {e}"))
    };
    let role = row.text("role")?;
    let actions: Vec<Action> = serde_json::from_value(row.json("actions")?).map_err(|e| bad("actions", &e))?;
    Ok(Message {
        seq,
        conversation_id,
        role: Role::parse(&role).ok_or_else(|| bad("role", &role))?,
        content: row.text("content")?,
        actions,
        created_at: row.time("created_at")?,
    })
}
