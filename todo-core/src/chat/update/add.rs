//! Adding to and removing from a task: tags, notes.

use super::*;

/// "add tag work to task 3", "add #urgent to task 2", "add the tags home, chores to buy milk".
pub(super) fn add_to(s: &Sentence, j: usize, end: usize) -> Option<Command> {
    if let Some(c) = add_note(s, j, end) {
        return Some(c);
    }
    let k = if s.is(j, "the") { j + 1 } else { j };
    let (tags, t) = named_tags(s, k, true)?;
    if !s.is_any(t, &["to", "on"]) {
        return None;
    }
    Some(match resolve_ref(s, t + 1..end) {
        Ok(task) => Command::UpdateTask(UpdateTaskArgs { tags_add: tags, ..UpdateTaskArgs::of(task) }),
        Err(q) => Command::unknown(q),
    })
}

/// "add a note to task 3: bring the red folder" sets the description.
fn add_note(s: &Sentence, j: usize, end: usize) -> Option<Command> {
    let k = if s.is_any(j, &["a", "an", "the"]) { j + 1 } else { j };
    if !s.is_any(k, &["note", "description", "comment"])
        || !s.is_any(k + 1, &["to", "on", "for"])
        || !is_numbered_at(s, k + 2)
    {
        return None;
    }
    let Some((r, text)) = numbered_then_rest(s, k + 2, end) else {
        return Some(Command::unknown(reply::WHAT_UPDATE));
    };
    let text = if s.is_punct(text.start, ':') || s.is_any(text.start, &["saying", "that"]) {
        text.start + 1..text.end
    } else {
        text
    };
    let task = match resolve_ref(s, r) {
        Ok(t) => t,
        Err(q) => return Some(Command::unknown(q)),
    };
    Some(match Description::parse(&leftover(s, text, &[])) {
        Ok(d) if !d.as_str().is_empty() => {
            Command::UpdateTask(UpdateTaskArgs { description: Some(d), ..UpdateTaskArgs::of(task) })
        }
        Ok(_) => Command::unknown(reply::WHAT_UPDATE),
        Err(_) => Command::unknown(reply::DESCRIPTION_TOO_LONG),
    })
}

/// "remove tag work from task 3", "remove #work from task 3", "remove the due
/// date from task 2", "clear the reminder on task 4", "take off the tag x from ...".
pub(super) fn remove_from(s: &Sentence, j: usize, end: usize) -> Option<Command> {
    let j = if s.is(j, "off") { j + 1 } else { j };
    let k = if s.is_any(j, &["the", "its"]) { j + 1 } else { j };
    let from = |a: usize| (a..end).find(|x| s.is_any(*x, &["from", "of", "on", "for", "off"]));
    if let Some((field, f)) = field_at(s, k)
        && matches!(field, Field::Due | Field::Reminder | Field::Recurrence)
    {
        let x = from(f)?;
        if x != f {
            return None;
        }
        let mut u = match resolve_ref(s, x + 1..end) {
            Ok(task) => UpdateTaskArgs::of(task),
            Err(q) => return Some(Command::unknown(q)),
        };
        match field {
            Field::Due => u.due_at = Some(None),
            Field::Reminder => u.remind_at = Some(None),
            _ => u.recurrence = Some(None),
        }
        return Some(Command::UpdateTask(u));
    }
    let (tags, t) = named_tags(s, k, false)?;
    if !s.is_any(t, &["from", "off", "on"]) {
        return None;
    }
    Some(tags_removed(s, t + 1..end, tags))
}
