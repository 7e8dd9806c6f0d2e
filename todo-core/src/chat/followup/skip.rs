//! Skipping occurrences of a recurring task: "skip the next one", "skip this week".
use super::pronouns::{it, pronoun_at};
use crate::chat::command::{Command, SkipArgs, SkipSpan};
use crate::chat::datetime::{self, Ctx};
use crate::chat::edit::trim_end;
use crate::chat::lexer::Sentence;
use crate::chat::reference::{Found, reference};
use crate::chat::{reply, vocab};

/// "skip the next one", "skip this week", "skip it", "skip the team meeting",
/// "skip tomorrow", "skip next week".
pub(super) fn skip(s: &Sentence, j: usize, end: usize, ctx: &Ctx) -> Option<Command> {
    if !s.is(j, "skip") {
        return None;
    }
    let mut k = j + 1;
    let mut target = None;
    let mut span = None;
    let mut through = None;
    let mut b = trim_end(s, k, end);
    // Which occurrence, at either end: "the next one", "this week" (the rest of
    // the skipped occurrence's week), "next week" (through its Sunday).
    let sunday = ctx.monday().checked_add_days(chrono::Days::new(13));
    let phrases: &[(&[&str], Option<SkipSpan>, Option<chrono::NaiveDate>)] = &[
        (&["the", "next", "one"], None, None),
        (&["the", "next", "occurrence"], None, None),
        (&["the", "next", "time"], None, None),
        (&["next", "one"], None, None),
        (&["next", "occurrence"], None, None),
        (&["next", "time"], None, None),
        (&["this", "time"], None, None),
        (&["this", "one"], None, None),
        (&["this", "occurrence"], None, None),
        (&["the", "next"], None, None),
        (&["next"], None, None),
        (&["once"], None, None),
        (&["for", "this", "week"], Some(SkipSpan::Week), None),
        (&["this", "week"], Some(SkipSpan::Week), None),
        (&["this", "week's"], Some(SkipSpan::Week), None),
        (&["for", "next", "week"], None, sunday),
        (&["next", "week"], None, sunday),
        (&["next", "week's"], None, sunday),
        (&["for", "today"], Some(SkipSpan::Day), None),
        (&["today"], Some(SkipSpan::Day), None),
        (&["today's"], Some(SkipSpan::Day), None),
        (&["tonight"], Some(SkipSpan::Day), None),
        (&["tonight's"], Some(SkipSpan::Day), None),
        (&["this", "month"], Some(SkipSpan::Month), None),
        (&["this", "month's"], Some(SkipSpan::Month), None),
        (&["for", "this", "month"], Some(SkipSpan::Month), None),
    ];
    let mut phrases = phrases.to_vec();
    phrases.sort_by_key(|(p, _, _)| std::cmp::Reverse(p.len()));
    'outer: loop {
        for (p, sp, th) in &phrases {
            if let Some(e) = s.seq(k, p).filter(|e| *e <= b) {
                k = e;
                (span, through) = (span.or(*sp), through.or(*th));
                continue 'outer;
            }
            if b >= k + p.len() && s.seq(b - p.len(), p).is_some() {
                b -= p.len();
                (span, through) = (span.or(*sp), through.or(*th));
                continue 'outer;
            }
        }
        if target.is_none()
            && let Some((r, e)) = pronoun_at(s, k).filter(|(_, e)| *e <= b)
        {
            (target, k) = (Some(r), e);
            continue 'outer;
        }
        break;
    }
    let mut b = trim_end(s, k, b);
    // "skip tomorrow", "skip monday's", "skip it on friday": every occurrence
    // through that day. A date at the end ("skip the team meeting on friday") too.
    for a in k..b {
        let from = if s.is_any(a, &["on", "for"]) { a + 1 } else { a };
        let (when, e) = datetime::when_seq(s, from, ctx);
        let possessive = when.is_empty() && s.w(from).is_some_and(|w| w.ends_with("'s"));
        let e = if possessive {
            from + 1
        } else if s.is(e, "'s") {
            e + 1
        } else {
            e
        };
        if (!when.is_empty() || possessive) && e >= b {
            let day = match when.date {
                Some(d) => Some(d),
                None => s.w(from).and_then(|w| w.strip_suffix("'s")).and_then(|w| match w {
                    "tomorrow" => ctx.plus_days(1),
                    _ => vocab::weekday(w, false).and_then(|wd| {
                        let ahead = (7 + wd.num_days_from_monday()
                            - chrono::Datelike::weekday(&ctx.today).num_days_from_monday())
                            % 7;
                        ctx.plus_days(u64::from(if ahead == 0 { 7 } else { ahead }))
                    }),
                }),
            };
            if let Some(d) = day {
                through = through.or(Some(d));
                b = a;
                break;
            }
        }
    }
    let b = trim_end(s, k, b);
    if k < b {
        if target.is_some() {
            return None;
        }
        let r = if s.is_any(k, &["one", "occurrence", "meeting", "session", "class"]) && k + 1 == b {
            it()
        } else {
            match reference(s, k..b) {
                Found::Ref(r) => r,
                _ => return Some(Command::unknown(reply::WHICH_SKIP)),
            }
        };
        target = Some(r);
    }
    Some(Command::SkipOccurrence(SkipArgs { task: target.unwrap_or_else(it), rest_of: span, through }))
}
