//! Date ranges of a listing: "today", "this week", "in the next 3 days".

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::chat::datetime::{self, Ctx, Piece};
use crate::chat::lexer::Sentence;

/// A date range for a listing: "today", "this week", "next month", "on friday",
/// "in the next 3 days", "before friday", "upcoming". Bounds are local dates.
pub(crate) fn range_at(s: &Sentence, k: usize, ctx: &Ctx) -> Option<(Option<NaiveDate>, Option<NaiveDate>, usize)> {
    let today = ctx.today;
    let day = |d: NaiveDate, j: usize| Some((Some(d), d.succ_opt(), j));
    let span = |a: NaiveDate, days: u64, j: usize| Some((Some(a), a.checked_add_days(Days::new(days)), j));
    // Prepositions that belong to the range: "due for", "in the", "during",
    // "sometime" ("due sometime next week" is "due next week").
    let mut i = k;
    while i < k + 3 && s.is_any(i, &["due", "for", "on", "in", "during", "of", "from", "sometime"]) {
        i += 1;
    }
    if let Some(j) = s.seq(i, &["some", "time"]) {
        i = j;
    }
    if s.is(i, "the") && s.is_any(i + 1, &["next", "coming", "following", "last", "previous", "past"]) {
        i += 1;
    }
    let monday = ctx.monday();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
    let w = s.w(i)?;
    match w {
        "today" | "tonight" | "today's" => return day(today, i + 1),
        "tomorrow" | "tomorrow's" | "tmr" | "tmrw" => return day(today.succ_opt()?, i + 1),
        "yesterday" | "yesterday's" => return day(today.pred_opt()?, i + 1),
        "upcoming" | "soon" => return span(today, 7, i + 1),
        "between" => {
            let date = |k: usize| match datetime::date_at(s, k, ctx, true)? {
                (Piece::Date(d) | Piece::DatePeriod(d, _), j, _) => Some((d, j)),
                _ => None,
            };
            let (a, j) = date(i + 1)?;
            let (mut b, j) = s.is_any(j, &["and", "&", "to"]).then(|| date(j + 1)).flatten()?;
            // "between monday and friday": the friday after that monday.
            if b < a && (j > 0 && s.w(j - 1).and_then(|w| crate::chat::vocab::weekday(w, true)).is_some()) {
                b = b.checked_add_days(Days::new(7))?;
            }
            return Some((Some(a.min(b)), a.max(b).succ_opt(), j));
        }
        "before" | "by" | "until" | "till" | "after" | "since" => {
            let (p, j, _) = datetime::date_at(s, i + 1, ctx, true)?;
            let d = match p {
                Piece::Date(d) | Piece::DatePeriod(d, _) => d,
                _ => return None,
            };
            return Some(match w {
                "before" => (None, Some(d), j),
                "by" | "until" | "till" => (None, d.succ_opt(), j),
                "after" => (d.succ_opt(), None, j),
                _ => (Some(d), None, j),
            });
        }
        _ => {}
    }
    if let Some(j) = s.seq(i, &["coming", "up"]) {
        return span(today, 7, j);
    }
    // "this week", "the week", "next week", "last week", "this month", "next month", "this weekend"
    let (shift, j) = match w {
        "this" | "the" | "current" => (0i32, i + 1),
        "next" | "coming" | "following" => (1, i + 1),
        "last" | "previous" | "past" => (-1, i + 1),
        _ => (0, i),
    };
    if j > i {
        // "the next 3 days", "next few days", "past 7 days"
        let (n, u) = if let Some(n) = s.w(j).and_then(crate::chat::vocab::cardinal) {
            (Some(n), j + 1)
        } else if s.is(j, "few") {
            (Some(3), j + 1)
        } else {
            (None, j)
        };
        if let Some(n) = n {
            let days = match s.w(u)? {
                "days" | "day" => u64::from(n),
                "weeks" | "week" => 7 * u64::from(n),
                _ => return None,
            };
            return if shift < 0 {
                Some((today.checked_sub_days(Days::new(days)), today.succ_opt(), u + 1))
            } else {
                span(today, days, u + 1)
            };
        }
        match s.w(j)? {
            "week" => {
                let start = shift_days(monday, 7 * i64::from(shift))?;
                return span(start, 7, j + 1);
            }
            "weekend" => {
                let sat = shift_days(monday, 5 + 7 * i64::from(shift))?;
                return span(sat, 2, j + 1);
            }
            "month" => {
                let start = shift_months(first, shift)?;
                return Some((Some(start), start.checked_add_months(Months::new(1)), j + 1));
            }
            "year" => {
                let start = NaiveDate::from_ymd_opt(today.year() + shift, 1, 1)?;
                return Some((Some(start), NaiveDate::from_ymd_opt(today.year() + shift + 1, 1, 1), j + 1));
            }
            _ => {}
        }
    }
    // A single day: "on friday", "tomorrow morning", "december 3", "in 3 days".
    let (p, j, _) = datetime::piece_at(s, k, ctx)?;
    match p {
        Piece::Date(d) | Piece::DatePeriod(d, _) => day(d, j),
        _ => None,
    }
}

fn shift_days(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        d.checked_add_days(Days::new(n.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    }
}

fn shift_months(d: NaiveDate, n: i32) -> Option<NaiveDate> {
    if n >= 0 {
        d.checked_add_months(Months::new(n.unsigned_abs()))
    } else {
        d.checked_sub_months(Months::new(n.unsigned_abs()))
    }
}
