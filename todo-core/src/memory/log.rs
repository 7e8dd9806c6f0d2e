//! The event log in memory: appended records and consumer-group subscriptions.

use super::*;

#[async_trait]
impl EventLog for MemoryStore {
    fn topic_names(&self) -> &TopicNames {
        &self.topics
    }

    async fn subscribe(&self, group: &str, topics: &[String], start: StartFrom) -> Result<Box<dyn Subscription>> {
        let mut st = self.lock();
        let mut position = HashMap::new();
        for name in topics {
            let end = st.topic_len.get(name).copied().unwrap_or(0);
            let key = (group.to_owned(), name.clone());
            let at = *st.committed.entry(key).or_insert(match start {
                StartFrom::Earliest => 0,
                StartFrom::Latest => end,
            });
            position.insert(name.clone(), at);
        }
        Ok(Box::new(MemorySubscription {
            store: self.clone(),
            group: group.to_owned(),
            position,
            delivered: Vec::new(),
        }))
    }

    async fn append(&self, topic: &str, key: Option<&str>, payload: &[u8], headers: &[(String, String)]) -> Result<()> {
        self.append_raw(topic, key.map(str::to_owned), payload.to_vec(), headers.to_vec());
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}

struct MemorySubscription {
    store: MemoryStore,
    group: String,
    /// Next offset to read, per topic.
    position: HashMap<String, i64>,
    /// `(topic, offset)` of the records delivered since the last commit, in order.
    delivered: Vec<(String, i64)>,
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Result<Record> {
        loop {
            let notified = self.store.appended.notified();
            {
                let st = self.store.lock();
                // The oldest unread record across the subscribed topics, in append order.
                let found =
                    st.log.iter().find(|r| self.position.get(&r.topic).is_some_and(|p| r.offset >= *p)).cloned();
                if let Some(r) = found {
                    self.position.insert(r.topic.clone(), r.offset + 1);
                    self.delivered.push((r.topic.clone(), r.offset));
                    return Ok(r);
                }
            }
            notified.await;
        }
    }

    async fn commit(&mut self, record: &Record) -> Result<()> {
        let mut st = self.store.lock();
        let key = (self.group.clone(), record.topic.clone());
        let at = st.committed.entry(key).or_insert(0);
        *at = (*at).max(record.offset + 1);
        if let Some(i) = self.delivered.iter().position(|(t, o)| *t == record.topic && *o == record.offset) {
            self.delivered.drain(..=i);
        }
        Ok(())
    }

    /// Every topic's next offset after the records delivered up to `record`.
    fn checkpoint(&self, record: &Record) -> Option<Checkpoint> {
        let end = self.delivered.iter().position(|(t, o)| *t == record.topic && *o == record.offset)?;
        let mut next: Vec<(String, i64)> = Vec::new();
        for (topic, offset) in &self.delivered[..=end] {
            match next.iter_mut().find(|(t, _)| t == topic) {
                Some((_, n)) => *n = (*n).max(offset + 1),
                None => next.push((topic.clone(), offset + 1)),
            }
        }
        Some(Checkpoint::new(self.store.log_id.0, self.group.clone(), next))
    }

    async fn lag(&mut self) -> Result<Option<u64>> {
        let st = self.store.lock();
        let behind = st.log.iter().filter(|r| self.position.get(&r.topic).is_some_and(|p| r.offset >= *p)).count();
        Ok(Some((behind + self.delivered.len()) as u64))
    }
}
