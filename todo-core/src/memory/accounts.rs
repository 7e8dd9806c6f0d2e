//! Users, sign-in attempts, the LLM budget, API tokens and calendar feeds in memory.

use super::*;

#[async_trait]
impl UserRepository for MemoryStore {
    async fn create(&self, user: &User) -> Result<()> {
        let mut st = self.lock();
        if st.users.values().any(|u| u.email == user.email) {
            return Err(Error::Conflict("an account with this e-mail exists".into()));
        }
        st.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn by_email(&self, email: &Email) -> Result<Option<User>> {
        Ok(self.lock().users.values().find(|u| &u.email == email).cloned())
    }

    async fn by_id(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.lock().users.get(&id).cloned())
    }
}

#[async_trait]
impl LoginAttempts for MemoryStore {
    async fn count_attempt(
        &self,
        account: &str,
        client: &str,
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<crate::ports::AttemptWindow> {
        let mut st = self.lock();
        let entry = st.attempts.entry((account.to_owned(), client.to_owned())).or_insert((at, 0));
        if entry.0 <= at - window {
            *entry = (at, 0);
        }
        entry.1 += 1;
        Ok(crate::ports::AttemptWindow { attempts: entry.1, started: entry.0 })
    }

    async fn clear(&self, account: &str, client: &str) -> Result<()> {
        self.lock().attempts.remove(&(account.to_owned(), client.to_owned()));
        Ok(())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut st = self.lock();
        let n = st.attempts.len();
        st.attempts.retain(|_, (began, _)| *began > before);
        Ok((n - st.attempts.len()) as u64)
    }
}

#[async_trait]
impl crate::ports::LlmBudget for MemoryStore {
    async fn take_call(&self, user_id: UserId, day: chrono::NaiveDate, limit: u32) -> Result<bool> {
        let mut st = self.lock();
        let calls = st.llm_calls.entry((user_id, day)).or_insert(0);
        if *calls >= limit {
            return Ok(false);
        }
        *calls += 1;
        Ok(true)
    }
}

#[async_trait]
impl crate::ports::ApiTokenStore for MemoryStore {
    async fn create_token(&self, token: &crate::domain::ApiToken) -> Result<()> {
        let mut s = self.lock();
        if s.api_tokens.contains_key(&token.id) || s.api_tokens.values().any(|t| t.hash == token.hash) {
            return Err(Error::Conflict(format!("token {} exists", token.id)));
        }
        s.api_tokens.insert(token.id, token.clone());
        Ok(())
    }

    async fn tokens(&self, user_id: UserId) -> Result<Vec<crate::domain::ApiToken>> {
        let mut out: Vec<_> = self.lock().api_tokens.values().filter(|t| t.user_id == user_id).cloned().collect();
        out.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
        Ok(out)
    }

    async fn token_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::ApiToken>> {
        Ok(self.lock().api_tokens.values().find(|t| &t.hash == hash).cloned())
    }

    async fn revoke_token(&self, user_id: UserId, id: crate::domain::TokenId) -> Result<bool> {
        let mut s = self.lock();
        match s.api_tokens.get(&id) {
            Some(t) if t.user_id == user_id => Ok(s.api_tokens.remove(&id).is_some()),
            _ => Ok(false),
        }
    }

    async fn touch_token(&self, id: crate::domain::TokenId, at: DateTime<Utc>) -> Result<()> {
        if let Some(t) = self.lock().api_tokens.get_mut(&id) {
            t.last_used_at = Some(at);
        }
        Ok(())
    }
}

#[async_trait]
impl crate::ports::CalendarFeedStore for MemoryStore {
    async fn put_feed(&self, feed: &crate::domain::CalendarFeed) -> Result<()> {
        let mut s = self.lock();
        if s.calendar_feeds.values().any(|f| f.hash == feed.hash && f.user_id != feed.user_id) {
            return Err(Error::Conflict("a feed with this secret exists".into()));
        }
        s.calendar_feeds.insert(feed.user_id, feed.clone());
        Ok(())
    }

    async fn feed(&self, user_id: UserId) -> Result<Option<crate::domain::CalendarFeed>> {
        Ok(self.lock().calendar_feeds.get(&user_id).cloned())
    }

    async fn feed_by_hash(&self, hash: &crate::domain::SecretHash) -> Result<Option<crate::domain::CalendarFeed>> {
        Ok(self.lock().calendar_feeds.values().find(|f| &f.hash == hash).cloned())
    }

    async fn delete_feed(&self, user_id: UserId) -> Result<bool> {
        Ok(self.lock().calendar_feeds.remove(&user_id).is_some())
    }
}
