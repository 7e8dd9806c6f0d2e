//! Clock times: "5pm", "5:30 pm", "17:00", "9.30", "noon", "midnight", "half
//! past 4", "quarter to 6", "5 o'clock", and a bare hour after "at".
//!
//! A time is kept as written ([`Clock`]) until the part of the day it was said
//! with is known: "at 7 in the evening" is 19:00. A bare hour 1 to 6 without
//! am/pm ("at 3") is in the afternoon, because that is when people mean it;
//! other bare hours, and times written with a leading zero ("06:30"), are read
//! on a 24-hour clock.

use chrono::NaiveTime;

use super::datetime::{Period, Piece};
use super::lexer::Sentence;
use super::vocab;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meridiem {
    Am,
    Pm,
}

/// A clock time as written, before am/pm and the part of the day settle it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clock {
    pub hour: u32,
    pub minute: u32,
    pub meridiem: Option<Meridiem>,
    /// Written on a 24-hour clock: "17:00", "06:30", "0:15".
    pub h24: bool,
    /// "midnight": the end of the named day.
    pub end_of_day: bool,
}

impl Clock {
    fn new(hour: u32, minute: u32) -> Self {
        Self { hour, minute, meridiem: None, h24: false, end_of_day: false }
    }

    /// The hour on a 24-hour clock, given the part of the day it was said with.
    fn hour24(&self, period: Option<Period>) -> u32 {
        let h = self.hour;
        match self.meridiem {
            Some(Meridiem::Am) => h % 12,
            Some(Meridiem::Pm) => h % 12 + 12,
            None if self.h24 || h == 0 || h > 12 => h,
            None => match period {
                Some(Period::Morning) => h % 12,
                Some(Period::Afternoon | Period::Evening) => h % 12 + 12,
                // "at 11 at night" is 23:00, "at 2 at night" is 02:00.
                Some(Period::Night) if h >= 5 => h % 12 + 12,
                Some(Period::Night) => h,
                None if (1..=6).contains(&h) => h + 12,
                None => h,
            },
        }
    }

    pub fn time(&self, period: Option<Period>) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour24(period), self.minute, 0).unwrap_or(NaiveTime::MIN)
    }
}

/// A clock time: "5pm", "5:30 pm", "17:00", "9.30", "noon", "midnight",
/// "half past 4", "quarter to 6", "5 o'clock", and a bare hour after "at".
pub(crate) fn time_at(s: &Sentence, i: usize, after_at: bool) -> Option<(Piece, usize)> {
    let w = s.w(i)?;
    // "the 7pm show", "the 8:15 train": a time inside a noun phrase.
    if !after_at && i > 0 && s.is_any(i - 1, &["the", "a", "an"]) {
        return None;
    }
    let t = |c: Clock, j| Some((Piece::Time(c), j));
    match w {
        "noon" | "midday" => {
            return t(Clock { h24: true, ..Clock::new(12, 0) }, i + 1);
        }
        "midnight" => {
            return t(Clock { end_of_day: true, ..Clock::new(0, 0) }, i + 1);
        }
        "half" | "quarter" => {
            let past = s.is_any(i + 1, &["past", "after"]);
            if past || s.is_any(i + 1, &["to", "til"]) {
                let h = s.w(i + 2).and_then(vocab::cardinal).filter(|h| (1..=12).contains(h))?;
                let (h, m) = match (w, past) {
                    ("half", true) => (h, 30),
                    ("quarter", true) => (h, 15),
                    ("quarter", false) => ((h + 10) % 12 + 1, 45),
                    _ => return None,
                };
                let (c, j) = meridiem_after(s, Clock::new(h, m), i + 3);
                return t(c, j);
            }
            return None;
        }
        _ => {}
    }
    if w == "12" && s.is(i + 1, "noon") {
        return t(Clock { h24: true, ..Clock::new(12, 0) }, i + 2);
    }
    if let Some(c) = clock_word(w) {
        if c.meridiem.is_some() || c.h24 || w.contains([':', '.', 'h']) {
            let (c, j) = meridiem_after(s, c, i + 1);
            return t(c, j);
        }
        // A bare number: a time only with am/pm, "o'clock", or after "at".
        let (c2, j) = meridiem_after(s, c, i + 1);
        if c2.meridiem.is_some() {
            return t(c2, j);
        }
        if s.is_any(i + 1, &["o'clock", "oclock"]) {
            return t(c, i + 2);
        }
        if after_at && c.hour <= 23 && vocab::cardinal(w).is_some() {
            return t(c, i + 1);
        }
    }
    // "at five", "at seven thirty"
    if after_at {
        let h = vocab::cardinal(w).filter(|h| (1..=12).contains(h) && !w.bytes().all(|b| b.is_ascii_digit()))?;
        let (m, j) = match s.w(i + 1).and_then(vocab::cardinal).filter(|m| (10..60).contains(m)) {
            Some(m) => (m, i + 2),
            None => (0, i + 1),
        };
        let (c, j) = meridiem_after(s, Clock::new(h, m), j);
        let j = if s.is_any(j, &["o'clock", "oclock"]) { j + 1 } else { j };
        return t(c, j);
    }
    None
}

/// Reads "am"/"pm"/"a.m"/"p.m" after a clock (hours 1..=12 only).
fn meridiem_after(s: &Sentence, c: Clock, j: usize) -> (Clock, usize) {
    if c.meridiem.is_none()
        && !c.h24
        && (1..=12).contains(&c.hour)
        && let Some(m) = s.w(j).and_then(meridiem)
    {
        return (Clock { meridiem: Some(m), ..c }, j + 1);
    }
    (c, j)
}

fn meridiem(w: &str) -> Option<Meridiem> {
    match w {
        "am" | "a.m" => Some(Meridiem::Am),
        "pm" | "p.m" => Some(Meridiem::Pm),
        _ => None,
    }
}

/// One word that is a clock time: "5", "5pm", "5:30pm", "17:00", "9.30", "1030am", "17h30".
fn clock_word(w: &str) -> Option<Clock> {
    let (body, mer) = match w.strip_suffix("am").or_else(|| w.strip_suffix("a.m")) {
        Some(b) => (b, Some(Meridiem::Am)),
        None => match w.strip_suffix("pm").or_else(|| w.strip_suffix("p.m")) {
            Some(b) => (b, Some(Meridiem::Pm)),
            None => (w, None),
        },
    };
    if body.is_empty() || body.len() > 5 {
        return None;
    }
    let sep = body.find([':', '.', 'h']);
    let (h, m) = match sep {
        Some(k) => {
            let (h, m) = (&body[..k], &body[k + 1..]);
            // "9.30" and "17h30", but not "1.5" (a decimal) nor "2h" (a duration).
            if m.len() != 2 {
                return None;
            }
            (h, m)
        }
        // "1030am" needs its am/pm to be a time.
        // (ASCII only: the split is by bytes; "ü5pm" is no time.)
        None if body.len() >= 3 && mer.is_some() && body.is_ascii() => body.split_at(body.len() - 2),
        None => (body, "00"),
    };
    if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hour, minute): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if minute > 59 || hour > 23 || (mer.is_some() && !(1..=12).contains(&hour)) {
        return None;
    }
    let h24 = mer.is_none() && sep.is_some() && (h.starts_with('0') || hour > 12);
    Some(Clock { hour, minute, meridiem: mer, h24, end_of_day: false })
}
