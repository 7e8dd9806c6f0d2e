//! Pulls the recognisable phrases (date/time, recurrence, priority, tags,
//! reminder) out of a stretch of tokens; what is left is the title.
//!
//! Phrases are matched left to right, recurrence before dates so that "every
//! monday" is not read as "monday". Weak matches (a bare weekday, a trailing
//! "urgent") are only taken at the edge of what remains, so "read the sunday
//! paper" keeps its Sunday.

use std::ops::Range;

use super::datetime::{self, Ctx, Span, Strength, When};
use super::lexer::Sentence;
use super::repeat_phrase::{self, RuleSpec};
use super::vocab;
use crate::domain::{Priority, Tag};

/// When a reminder fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reminder {
    /// At the due time ("remind me to ...").
    AtDue,
    /// Some time before the due time ("15 minutes before").
    Before(Span),
    /// At its own time ("with a reminder at 8am").
    At(When),
    /// Some days before the due date, at a time of that day ("the day before at
    /// 6pm"). Read so only in a conversation; elsewhere the time is the due time.
    BeforeAt(Span, When),
}

/// Everything recognised in a stretch of tokens.
#[derive(Clone, Debug)]
pub(crate) struct Slots {
    pub when: When,
    pub rule: Option<RuleSpec>,
    pub priority: Option<Priority>,
    pub tags: Vec<Tag>,
    pub reminder: Option<Reminder>,
    /// Further clock times after the first ("at 8am and 8pm").
    pub extra_times: Vec<datetime::Clock>,
    consumed: Vec<bool>,
    range: Range<usize>,
}

impl Slots {
    /// Whether anything besides a title was found.
    pub fn has_any(&self) -> bool {
        !self.when.is_empty()
            || self.rule.is_some()
            || self.priority.is_some()
            || !self.tags.is_empty()
            || self.reminder.is_some()
    }

    /// Marks the tokens of `r` as taken: not part of the title.
    pub fn take(&mut self, r: Range<usize>) {
        for c in &mut self.consumed[r] {
            *c = true;
        }
    }

    fn free(&self, i: usize) -> bool {
        self.range.contains(&i) && !self.consumed[i]
    }

    /// Whether token `i` belongs to a recognised phrase.
    pub fn is_taken(&self, i: usize) -> bool {
        self.range.contains(&i) && self.consumed[i]
    }

    /// Whether the phrase at `r` sits at the edge of the remaining text: only
    /// punctuation between it and the range's end (or start) or a taken phrase.
    fn at_edge(&self, s: &Sentence, r: &Range<usize>, trailing_only: bool) -> bool {
        let after = (r.end..self.range.end).find(|k| !s.is_any_punct(*k)).is_none_or(|k| !self.free(k));
        let before = (self.range.start..r.start).rev().find(|k| !s.is_any_punct(*k)).is_none_or(|k| !self.free(k));
        after || (!trailing_only && before)
    }

    /// The title: the free tokens, as written, with connecting words that
    /// belonged to a taken phrase ("by", "on", "and") trimmed from the edges.
    pub fn title(&self, s: &Sentence) -> String {
        leftover(s, self.range.clone(), &self.consumed)
    }

    /// Where the words start when the range opens with a taken phrase: the first
    /// free word after "every weekday at 7:15" in "every weekday at 7:15 remind
    /// me to take vitamins". `None` if the range starts with a free word.
    pub fn after_lead(&self, s: &Sentence) -> Option<usize> {
        let start = self.range.start;
        if self.free(start) {
            return None;
        }
        (start..self.range.end).find(|k| self.free(*k) && !s.is_any_punct(*k))
    }

    /// Takes the first free words while they are among `words` ("to" in
    /// "remind me at 5 to call mom").
    pub fn drop_leading(&mut self, s: &Sentence, words: &[&str]) {
        let mut i = self.range.start;
        while i < self.range.end && (!self.free(i) || s.is_any_punct(i)) {
            i += 1;
        }
        while i < self.range.end && self.free(i) && s.is_any(i, words) {
            self.consumed[i] = true;
            i += 1;
        }
    }
}

/// The tokens of `range` not marked in `consumed`, as written, joined by
/// spaces, with edge punctuation and connecting words next to taken phrases
/// trimmed, and surrounding quotes removed.
pub(crate) fn leftover(s: &Sentence, range: Range<usize>, consumed: &[bool]) -> String {
    let free = |k: usize| range.contains(&k) && !consumed.get(k).copied().unwrap_or(false);
    let mut runs: Vec<&str> = Vec::new();
    let mut i = range.start;
    while i < range.end {
        if !free(i) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < range.end && free(j) {
            j += 1;
        }
        let (mut a, mut b) = (i, j);
        let touches_before = a > range.start;
        let touches_after = b < range.end;
        loop {
            let trim_front = a < b && (s.is_mark(a) || touches_before && s.is_any(a, CONNECTORS));
            let trim_back = a < b && (s.is_mark(b - 1) || touches_after && s.is_any(b - 1, CONNECTORS));
            if trim_front {
                a += 1;
            } else if trim_back {
                b -= 1;
            } else {
                break;
            }
        }
        let text = s.slice(a, b);
        if !text.is_empty() {
            runs.push(text);
        }
        i = j;
    }
    strip_quotes(&runs.join(" ")).to_owned()
}

fn strip_quotes(t: &str) -> &str {
    let q: &[char] = &['"', '“', '”', '„', '«', '»'];
    match (t.strip_prefix(q), t.strip_suffix(q)) {
        (Some(_), Some(_)) if t.chars().count() >= 2 => t.trim_matches(q).trim(),
        _ => t,
    }
}

/// Words that join a phrase to the title and go with the phrase.
const CONNECTORS: &[&str] =
    &["and", "by", "on", "at", "for", "due", "before", "until", "till", "from", "starting", "with", "&", "-", "–", "—"];

/// Reads the phrases in `range`.
pub(crate) fn extract(s: &Sentence, range: Range<usize>, ctx: &Ctx) -> Slots {
    let mut slots = Slots {
        when: When::default(),
        rule: None,
        priority: None,
        tags: Vec::new(),
        reminder: None,
        extra_times: Vec::new(),
        consumed: vec![false; s.len()],
        range: range.clone(),
    };
    let mut weak: Vec<(Range<usize>, Weak)> = Vec::new();
    let mut i = range.start;
    while i < range.end {
        match strong_at(s, i, ctx, &mut slots, &mut weak) {
            Some(j) if j > i => {
                slots.take(i..j.min(range.end));
                i = j;
            }
            _ => i += 1,
        }
    }
    // Weak matches, nearest the end first: they must sit at an edge.
    for (r, w) in weak.into_iter().rev() {
        if !r.clone().all(|k| slots.free(k)) {
            continue;
        }
        match w {
            Weak::Date(p) if slots.at_edge(s, &r, false) && slots.when.accept(p) => slots.take(r),
            Weak::Priority(p) if slots.priority.is_none() && slots.at_edge(s, &r, true) => {
                slots.priority = Some(p);
                slots.take(r);
            }
            Weak::Rule(rule) if slots.rule.is_none() => slots.rule = Some(rule),
            _ => {}
        }
    }
    slots
}

enum Weak {
    Date(datetime::Piece),
    Priority(Priority),
    /// Taken without consuming its word.
    Rule(RuleSpec),
}

/// Tries every phrase at `i`; returns where a taken phrase ends.
fn strong_at(
    s: &Sentence,
    i: usize,
    ctx: &Ctx,
    slots: &mut Slots,
    weak: &mut Vec<(Range<usize>, Weak)>,
) -> Option<usize> {
    let end = slots.range.end;
    if slots.reminder.is_none()
        && let Some((r, j)) = reminder_at(s, i, ctx).filter(|(_, j)| *j <= end)
    {
        slots.reminder = Some(r);
        return Some(j);
    }
    // "every weekday at 9:30 except fridays": days left out of the rule read
    // before (or of "daily" in "daily standup except sundays").
    if let Some((days, j)) = repeat_phrase::exception_at(s, i).filter(|(_, j)| *j <= end) {
        let before = slots.rule.as_mut().or_else(|| {
            weak.iter_mut().rev().find_map(|(_, w)| match w {
                Weak::Rule(r) => Some(r),
                _ => None,
            })
        });
        if before.is_some_and(|r| r.without(&days)) {
            return Some(j);
        }
    }
    if slots.rule.is_none()
        && let Some((r, j)) = repeat_phrase::rule_at(s, i, ctx).filter(|(_, j)| *j <= end)
    {
        // "weekly review", "daily standup": an adverb used as an adjective
        // stays in the title, and is the rule only if no other is given.
        if j == i + 1 && j < end && s.w(j).is_some() && !starts_phrase(s, j, ctx) {
            weak.push((i..j, Weak::Rule(r)));
            return None;
        }
        slots.rule = Some(r);
        return Some(j);
    }
    if let Some((p, j, strength)) = datetime::piece_at(s, i, ctx).filter(|(_, j, _)| *j <= end) {
        match strength {
            Strength::Strong if slots.when.accept(p) => {
                // "at 8am and 8pm": more times of the same day, for a recurrence.
                let mut j = j;
                while let Some((datetime::Piece::Time(c), k)) =
                    s.is(j, "and").then(|| datetime::time_at(s, j + 1, true)).flatten()
                {
                    if k > end {
                        break;
                    }
                    slots.extra_times.push(c);
                    j = k;
                }
                return Some(j);
            }
            Strength::Weak => weak.push((i..j, Weak::Date(p))),
            Strength::Strong => {}
        }
    }
    if slots.priority.is_none() {
        if let Some((p, j)) = priority_at(s, i).filter(|(_, j)| *j <= end) {
            slots.priority = Some(p);
            return Some(j);
        }
        if let Some(p) = s.w(i).and_then(weak_priority) {
            // "urgent: fix the server" is certain; a bare "urgent" only at the end.
            if [':', '!', '-', '–', '—', ','].iter().any(|c| s.is_punct(i + 1, *c)) {
                slots.priority = Some(p);
                return Some(i + 2);
            }
            weak.push((i..i + 1, Weak::Priority(p)));
        }
    }
    if let Some((tags, j)) = tags_at(s, i).filter(|(_, j)| *j <= end) {
        for t in tags {
            if !slots.tags.contains(&t) {
                slots.tags.push(t);
            }
        }
        return Some(j);
    }
    None
}

/// A sentence that opens with a date or a recurrence ("tomorrow at 9, ...",
/// "every weekday at 7:15 ..."), read as a whole: its phrases and where its
/// words start, for the opening words that may come there ("remind me to",
/// "I need to"). `None` when it does not open with such a phrase.
pub(crate) fn after_lead(s: &Sentence, range: Range<usize>, ctx: &Ctx) -> Option<(Slots, usize)> {
    let i = range.start;
    if datetime::piece_at(s, i, ctx).is_none() && repeat_phrase::rule_at(s, i, ctx).is_none() {
        return None;
    }
    let slots = extract(s, range, ctx);
    let k = slots.after_lead(s)?;
    Some((slots, k))
}

/// Whether a date, time, rule, priority, tag or joining word starts at `j`.
fn starts_phrase(s: &Sentence, j: usize, ctx: &Ctx) -> bool {
    s.is_any(j, CONNECTORS)
        || s.is_any(j, &["in", "starting", "until", "every", "remind", "with"])
        || datetime::piece_at(s, j, ctx).is_some()
        || repeat_phrase::rule_at(s, j, ctx).is_some()
        || priority_at(s, j).is_some()
        || tags_at(s, j).is_some()
}

fn weak_priority(w: &str) -> Option<Priority> {
    match w {
        "urgent" | "urgently" | "important" | "asap" | "critical" => Some(Priority::High),
        _ => None,
    }
}

/// "high priority", "priority: low", "p1", "low-priority", "with normal priority",
/// "top priority", "not urgent".
pub(crate) fn priority_at(s: &Sentence, i: usize) -> Option<(Priority, usize)> {
    let mut k = i;
    if s.is_any(k, &["with", "as", "at", "of"]) {
        k += 1;
    }
    if s.is_any(k, &["a", "an"]) {
        k += 1;
    }
    let w = s.w(k)?;
    let prio_word = |w: &str| matches!(w, "priority" | "prio" | "pri" | "importance");
    if let Some(p) = vocab::priority(w).filter(|_| prio_word(s.w(k + 1).unwrap_or(""))) {
        return Some((p, k + 2));
    }
    if let Some((adj, noun)) = w.split_once('-')
        && let Some(p) = vocab::priority(adj).filter(|_| prio_word(noun))
    {
        return Some((p, k + 1));
    }
    if matches!(w, "p1" | "p2" | "p3" | "p4") {
        return Some((vocab::priority(w)?, k + 1));
    }
    if let Some(p) = w.strip_prefix('!').and_then(vocab::priority) {
        return Some((p, k + 1));
    }
    if prio_word(w) {
        let mut j = k + 1;
        if s.is_punct(j, ':') || s.is_punct(j, '=') || s.is_any(j, &["is", "of", "to", "="]) {
            j += 1;
        }
        if let Some(p) = s.w(j).and_then(vocab::priority) {
            return Some((p, j + 1));
        }
    }
    if let Some(j) =
        s.seq(k, &["not", "urgent"]).or_else(|| s.seq(k, &["no", "rush"])).or_else(|| s.seq(k, &["not", "important"]))
    {
        return Some((Priority::Low, j));
    }
    None
}

/// "#work", "tagged work and home", "with tags work, home", "label: errands".
pub(crate) fn tags_at(s: &Sentence, i: usize) -> Option<(Vec<Tag>, usize)> {
    let w = s.w(i)?;
    if let Some(rest) = w.strip_prefix('#') {
        // "#2" is a task number, not a tag.
        if rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some((vec![Tag::parse(rest).ok()?], i + 1));
    }
    let mut j = i;
    if s.is(j, "with") {
        j += 1;
        if s.is(j, "the") {
            j += 1;
        }
    }
    match s.w(j)? {
        "tagged" | "labeled" | "labelled" => {
            j += 1;
            if s.is_any(j, &["with", "as"]) {
                j += 1;
            }
        }
        "tag" | "tags" | "label" | "labels" if !s.is_any(j + 1, &["task", "it"]) => {
            j += 1;
            if s.is_punct(j, ':') {
                j += 1;
            }
        }
        _ => return None,
    }
    tag_list(s, j)
}

/// The tags a phrase names from word `k` on: after "tag(s)" / "label(s)", or from
/// a `#word`; and the word after them. `#2` counts as a tag only when
/// `numbers_are_tags` (elsewhere it is the second task of a listing).
pub(crate) fn named_tags(s: &Sentence, k: usize, numbers_are_tags: bool) -> Option<(Vec<Tag>, usize)> {
    let (k, explicit) = if s.is_any(k, &["tag", "tags", "label", "labels"]) { (k + 1, true) } else { (k, false) };
    let hash_tag = |w: &str| w.starts_with('#') && (numbers_are_tags || !w[1..].bytes().all(|b| b.is_ascii_digit()));
    if !explicit && !s.w(k).is_some_and(hash_tag) {
        return None;
    }
    tag_list(s, k)
}

/// One or more tag words separated by commas or "and".
pub(crate) fn tag_list(s: &Sentence, i: usize) -> Option<(Vec<Tag>, usize)> {
    let one = |k: usize| {
        let w = s.w(k)?;
        let bare = w.strip_prefix('#').unwrap_or(w);
        if vocab::is_reserved(bare) && !w.starts_with('#') {
            return None;
        }
        Tag::parse(bare).ok()
    };
    let mut tags = vec![one(i)?];
    let mut j = i + 1;
    loop {
        let mut k = j;
        if s.is_punct(k, ',') {
            k += 1;
        }
        if s.is_any(k, &["and", "&"]) {
            k += 1;
        }
        match one(k) {
            Some(t) if k > j || s.w(k).is_some_and(|w| w.starts_with('#')) => {
                if !tags.contains(&t) {
                    tags.push(t);
                }
                j = k + 1;
            }
            _ => break,
        }
    }
    Some((tags, j))
}

/// "and remind me 15 minutes before", "with a reminder at 8am",
/// "remind me tomorrow at 9", "reminder 1 hour before".
pub(crate) fn reminder_at(s: &Sentence, i: usize, ctx: &Ctx) -> Option<(Reminder, usize)> {
    let mut j = i;
    while s.is_punct(j, ',') || s.is_any(j, &["and", "with", "w/", "+", "also", "then", "plus", "set"]) {
        j += 1;
    }
    if s.is_any(j, &["a", "an"]) {
        j += 1;
    }
    j = match s.w(j)? {
        "remind" | "alert" | "notify" | "ping" if s.is(j + 1, "me") => j + 2,
        "reminder" => j + 1,
        _ => return None,
    };
    if s.is_punct(j, ':') {
        j += 1;
    }
    // "remind me to ..." starts a task; it is not a reminder phrase inside one.
    if s.is_any(j, &["to", "about", "that"]) {
        return None;
    }
    if let Some((span, k)) = before_at(s, j) {
        if ctx.convo {
            let (when, e) = datetime::when_seq(s, k, ctx);
            if when.date.is_none() && when.instant.is_none() && when.time_of_day().is_some() {
                return Some((Reminder::BeforeAt(span, when), e));
            }
        }
        return Some((Reminder::Before(span), k));
    }
    let k = if s.is_any(j, &["for"]) { j + 1 } else { j };
    let (when, k) = datetime::when_seq(s, k, ctx);
    if when.is_empty() {
        return Some((Reminder::AtDue, j));
    }
    Some((Reminder::At(when), k))
}

/// "15 minutes before", "an hour early", "the day before", "1 day in advance".
pub(crate) fn before_at(s: &Sentence, i: usize) -> Option<(Span, usize)> {
    let (span, k) = if let Some(k) = s.seq(i, &["the", "day"]).or_else(|| s.seq(i, &["the", "night"])) {
        (Span::Days(1), k)
    } else {
        datetime::span_at(s, i)?
    };
    let k = if let Some(k) = s.seq(k, &["in", "advance"]) {
        k
    } else if s.is_any(k, &["before", "early", "earlier", "ahead", "prior", "beforehand"]) {
        k + 1
    } else {
        return None;
    };
    // "before it", "before the meeting", "before it's due"
    let k = if s.is_any(k, &["it", "that"]) { k + 1 } else { k };
    let k = if s.is_any(k, &["is", "it's", "'s"]) && s.is(k + 1, "due") { k + 2 } else { k };
    Some((span, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::test_util::ctx;

    fn run(text: &str) -> (String, Slots) {
        let s = Sentence::new(text);
        let slots = extract(&s, 0..s.len(), &ctx());
        (slots.title(&s), slots)
    }

    #[test]
    fn titles_keep_their_words() {
        assert_eq!(run("submit report by friday").0, "submit report");
        assert_eq!(run("read the sunday paper").0, "read the sunday paper");
        assert_eq!(run("friday standup").0, "standup");
        assert_eq!(run("finish slides tomorrow 10am #work urgent").0, "finish slides");
        assert_eq!(run("call mom and dad").0, "call mom and dad");
        assert_eq!(run("stand-up meeting every weekday at 9:30am").0, "stand-up meeting");
        assert_eq!(run("\"meet at 5\" tomorrow").0, "meet at 5");
        assert_eq!(run("important meeting with boss").0, "important meeting with boss");
    }

    #[test]
    fn exceptions_after_the_time_of_a_rule() {
        let (t, s) = run("standup every weekday at 9:30 except fridays");
        assert_eq!(t, "standup");
        assert_eq!(s.rule.unwrap().to_rule(&ctx()).unwrap().as_str(), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH");
        let (t, s) = run("daily standup except sundays");
        assert_eq!(t, "daily standup");
        assert_eq!(s.rule.unwrap().to_rule(&ctx()).unwrap().as_str(), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA");
        // Nothing to leave out: the words stay.
        assert_eq!(run("report every week except fridays").0, "report except fridays");
        assert_eq!(run("pay rent every day except christmas").0, "pay rent except christmas");
    }

    #[test]
    fn sometime_goes_with_a_date_only() {
        assert_eq!(run("call dentist sometime next week").0, "call dentist");
        assert_eq!(run("fix the fence some time this weekend").0, "fix the fence");
        assert_eq!(run("think about it sometime").0, "think about it sometime");
        assert_eq!(run("call dentist sometime soon").0, "call dentist sometime soon");
        assert_eq!(run("spend some time with the kids tomorrow").0, "spend some time with the kids");
        assert_eq!(run("take some time off next week").0, "take some time off");
    }

    #[test]
    fn slots() {
        let (_, s) = run("buy eggs #groceries #weekend p1");
        assert_eq!(s.tags.iter().map(Tag::as_str).collect::<Vec<_>>(), ["groceries", "weekend"]);
        assert_eq!(s.priority, Some(Priority::High));
        let (t, s) = run("team meeting tomorrow at 3pm and remind me 15 minutes before");
        assert_eq!(t, "team meeting");
        assert_eq!(s.reminder, Some(Reminder::Before(Span::Minutes(15))));
        let (t, s) = run("pay bills tagged finance and home with low priority");
        assert_eq!(t, "pay bills");
        assert_eq!(s.tags.len(), 2);
        assert_eq!(s.priority, Some(Priority::Low));
    }
}
