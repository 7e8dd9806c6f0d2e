//! Which task a chat reference means: a number in the last listing, an id, or
//! a title among the user's pending tasks.

use super::*;

impl ChatService {
    /// The task a reference names, among the user's own: `Err(outcome)` when it
    /// names none or several (the outcome asks which).
    pub(super) async fn resolve(
        &self,
        user: UserId,
        tz: Timezone,
        conv: &Conversation,
        turn: &TurnContext,
        r: &TaskRef,
    ) -> Result<std::result::Result<Task, Outcome>> {
        let id = match r {
            // Resolved before the command runs ([`TurnContext::resolve`]).
            TaskRef::Context(_) => return Ok(Err(turn.ask_which())),
            TaskRef::Index(n) => match conv.last_listing.get((*n as usize).wrapping_sub(1)) {
                Some(id) => *id,
                None if conv.last_listing.is_empty() => {
                    return Ok(Err(Outcome::say(format!(
                        "I don't know which task {n} you mean yet: say \"show my tasks\" first, then refer to a task by its number."
                    ))));
                }
                None => {
                    return Ok(Err(Outcome::say(format!(
                        "Your last list had {} task{}; there is no task {n}.",
                        conv.last_listing.len(),
                        if conv.last_listing.len() == 1 { "" } else { "s" }
                    ))));
                }
            },
            TaskRef::Id(id) => *id,
            TaskRef::Title(title) => return self.by_title(user, tz, title).await,
        };
        match self.tasks.get(user, id).await {
            Ok(t) => Ok(Ok(t)),
            Err(Error::NotFound(_)) => Ok(Err(Outcome::say("I couldn't find that task; it may have been deleted."))),
            Err(e) => Err(e),
        }
    }

    /// The one pending task whose title best matches `title`: an exact
    /// (case-insensitive) title first, else the tasks whose title contains it.
    async fn by_title(&self, user: UserId, tz: Timezone, title: &str) -> Result<std::result::Result<Task, Outcome>> {
        let now = self.clock.now();
        let mut q = TaskQuery::new(user, now);
        q.text = TaskQuery::parse_text(title).ok().flatten();
        q.limit = 200;
        let wanted = title.trim().to_lowercase();
        let hits: Vec<Task> = self
            .tasks
            .list(&q)
            .await?
            .items
            .into_iter()
            .filter(|t| t.title.as_str().to_lowercase().contains(&wanted))
            .collect();
        let exact: Vec<&Task> = hits.iter().filter(|t| t.title.as_str().to_lowercase() == wanted).collect();
        let all: Vec<&Task> = hits.iter().collect();
        match (exact.as_slice(), all.as_slice()) {
            ([one], _) | ([], [one]) => Ok(Ok((*one).clone())),
            ([], []) => Ok(Err(Outcome::say(format!("I couldn't find a pending task called '{}'.", title.trim())))),
            (_, many) => {
                let shown: Vec<&Task> = many.iter().copied().take(CANDIDATES_MAX as usize).collect();
                let mut reply = format!("Several tasks match '{}'. Which one?", title.trim());
                for (i, t) in shown.iter().enumerate() {
                    reply.push_str(&format!("\n{}. {}", i + 1, describe(t, tz, now)));
                }
                let listing = Some(shown.iter().map(|t| t.id).collect());
                Ok(Err(Outcome { reply, listing, asks_which: true, ..Outcome::default() }))
            }
        }
    }
}
