//! Saved filters and chat conversations in memory.

use super::*;

#[async_trait]
impl SavedFilterStore for MemoryStore {
    async fn create(&self, f: &SavedFilter) -> Result<()> {
        let mut st = self.lock();
        let key = f.name.key();
        if st.saved_filters.contains_key(&f.id) {
            return Err(Error::Conflict(format!("filter {} exists", f.id)));
        }
        if st.saved_filters.values().any(|g| g.user_id == f.user_id && g.name.key() == key) {
            return Err(Error::Conflict(format!("you have a filter named {:?}", f.name.as_str())));
        }
        st.saved_filters.insert(f.id, f.clone());
        Ok(())
    }

    async fn get(&self, user_id: UserId, id: FilterId) -> Result<Option<SavedFilter>> {
        Ok(self.lock().saved_filters.get(&id).filter(|f| f.user_id == user_id).cloned())
    }

    async fn list(&self, user_id: UserId) -> Result<Vec<SavedFilter>> {
        let mut out: Vec<SavedFilter> =
            self.lock().saved_filters.values().filter(|f| f.user_id == user_id).cloned().collect();
        out.sort_by_key(|f| (f.name.key(), f.id));
        Ok(out)
    }

    async fn update(&self, f: &SavedFilter) -> Result<()> {
        let mut st = self.lock();
        if st.saved_filters.get(&f.id).is_none_or(|g| g.user_id != f.user_id) {
            return Err(Error::NotFound("filter"));
        }
        let key = f.name.key();
        if st.saved_filters.values().any(|g| g.user_id == f.user_id && g.id != f.id && g.name.key() == key) {
            return Err(Error::Conflict(format!("you have a filter named {:?}", f.name.as_str())));
        }
        if let Some(g) = st.saved_filters.get_mut(&f.id) {
            g.name = f.name.clone();
            g.query = f.query.clone();
            g.updated_at = f.updated_at;
        }
        Ok(())
    }

    async fn delete(&self, user_id: UserId, id: FilterId) -> Result<()> {
        let mut st = self.lock();
        match st.saved_filters.get(&id) {
            Some(f) if f.user_id == user_id => {
                st.saved_filters.remove(&id);
                Ok(())
            }
            _ => Err(Error::NotFound("filter")),
        }
    }
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn create(&self, c: &Conversation) -> Result<()> {
        let mut st = self.lock();
        if st.conversations.contains_key(&c.id) {
            return Err(Error::Conflict(format!("conversation {} exists", c.id)));
        }
        let stored = Conversation {
            created_at: truncate_micros(c.created_at),
            updated_at: truncate_micros(c.updated_at),
            ..c.clone()
        };
        st.conversations.insert(c.id, stored);
        Ok(())
    }

    async fn get(&self, user_id: UserId, id: ConversationId) -> Result<Option<Conversation>> {
        Ok(self.lock().conversations.get(&id).filter(|c| c.user_id == user_id).cloned())
    }

    async fn save(&self, c: &Conversation) -> Result<()> {
        let mut st = self.lock();
        match st.conversations.get_mut(&c.id) {
            Some(cur) if cur.user_id == c.user_id => {
                cur.last_listing = c.last_listing.clone();
                cur.context = c.context.clone();
                cur.version = c.version;
                cur.updated_at = truncate_micros(c.updated_at);
                Ok(())
            }
            _ => Err(Error::NotFound("conversation")),
        }
    }

    async fn append(&self, user_id: UserId, m: &Message) -> Result<Message> {
        let mut st = self.lock();
        if st.conversations.get(&m.conversation_id).is_none_or(|c| c.user_id != user_id) {
            return Err(Error::NotFound("conversation"));
        }
        let list = st.messages.entry(m.conversation_id).or_default();
        let stored = Message { seq: list.len() as i64 + 1, created_at: truncate_micros(m.created_at), ..m.clone() };
        list.push(stored.clone());
        Ok(stored)
    }

    async fn messages(&self, user_id: UserId, id: ConversationId, after_seq: i64, limit: u32) -> Result<Vec<Message>> {
        let st = self.lock();
        if st.conversations.get(&id).is_none_or(|c| c.user_id != user_id) {
            return Err(Error::NotFound("conversation"));
        }
        Ok(st
            .messages
            .get(&id)
            .into_iter()
            .flatten()
            .filter(|m| m.seq > after_seq)
            .take(limit as usize)
            .cloned()
            .collect())
    }
}
