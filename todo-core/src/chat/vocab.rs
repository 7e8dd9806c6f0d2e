//! The words the grammar knows: weekdays, months, numbers, ordinals, priorities.
//! Kept apart from the grammar so the rules read as rules.

use chrono::Weekday;

use crate::domain::Priority;

/// A full weekday name ("friday"); abbreviations only when `short` is allowed,
/// because "sat", "sun" and "wed" are also ordinary words.
pub(crate) fn weekday(w: &str, short: bool) -> Option<Weekday> {
    let d = match w {
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ if short => match w {
            "mon" => Weekday::Mon,
            "tue" | "tues" => Weekday::Tue,
            "wed" | "weds" => Weekday::Wed,
            "thu" | "thur" | "thurs" => Weekday::Thu,
            "fri" => Weekday::Fri,
            "sat" => Weekday::Sat,
            "sun" => Weekday::Sun,
            _ => return None,
        },
        _ => return None,
    };
    Some(d)
}

/// "mondays", "fridays": a plural weekday means every such day.
pub(crate) fn weekday_plural(w: &str) -> Option<Weekday> {
    w.strip_suffix('s').and_then(|s| weekday(s, false))
}

/// The RFC 5545 two-letter code.
pub(crate) fn weekday_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// A month name or its usual abbreviation, 1-based.
pub(crate) fn month(w: &str) -> Option<u32> {
    let m = match w {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    };
    Some(m)
}

const UNITS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [(&str, u32); 5] = [("twenty", 20), ("thirty", 30), ("forty", 40), ("fifty", 50), ("sixty", 60)];

/// A cardinal written in digits or words up to sixty ("3", "three", "forty-five").
pub(crate) fn cardinal(w: &str) -> Option<u32> {
    if !w.is_empty() && w.len() <= 6 && w.bytes().all(|b| b.is_ascii_digit()) {
        return w.parse().ok();
    }
    if let Some(n) = UNITS.iter().position(|u| *u == w) {
        return u32::try_from(n).ok();
    }
    if let Some((_, n)) = TENS.iter().find(|(t, _)| *t == w) {
        return Some(*n);
    }
    let (tens, unit) = w.split_once('-')?;
    let (_, t) = TENS.iter().find(|(name, _)| *name == tens)?;
    let u = UNITS.iter().position(|x| *x == unit).filter(|u| (1..10).contains(u))?;
    Some(t + u32::try_from(u).ok()?)
}

const ORDINALS: [&str; 20] = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];

/// An ordinal: "3rd", "3d", "third", "twenty-first", "thirtieth".
pub(crate) fn ordinal(w: &str) -> Option<u32> {
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &w[digits.len()..];
    if !digits.is_empty() && matches!(suffix, "st" | "nd" | "rd" | "th" | "d") {
        return cardinal(digits);
    }
    if let Some(n) = ORDINALS.iter().position(|o| *o == w).filter(|n| *n > 0) {
        return u32::try_from(n).ok();
    }
    match w {
        "twentieth" => return Some(20),
        "thirtieth" => return Some(30),
        _ => {}
    }
    let (tens, unit) = w.split_once('-')?;
    let t = match tens {
        "twenty" => 20,
        "thirty" => 30,
        _ => return None,
    };
    let u = ORDINALS.iter().position(|o| *o == unit).filter(|u| (1..10).contains(u))?;
    Some(t + u32::try_from(u).ok()?)
}

/// A priority adjective: "high", "urgent", "p1", "normal", "low" ...
pub(crate) fn priority(w: &str) -> Option<Priority> {
    let p = match w {
        "high" | "urgent" | "important" | "p1" | "top" | "highest" | "critical" | "1" => Priority::High,
        "medium" | "normal" | "p2" | "mid" | "moderate" | "2" => Priority::Medium,
        "low" | "p3" | "p4" | "lowest" | "minor" | "3" => Priority::Low,
        _ => return None,
    };
    Some(p)
}

/// Words that introduce something other than a tag, so a tag list stops before
/// them: "tagged work and remind me ...".
pub(crate) fn is_reserved(w: &str) -> bool {
    weekday(w, true).is_some()
        || matches!(
            w,
            "remind"
                | "every"
                | "due"
                | "at"
                | "on"
                | "by"
                | "today"
                | "tomorrow"
                | "tonight"
                | "next"
                | "this"
                | "in"
                | "priority"
                | "with"
                | "to"
                | "and"
                | "from"
                | "for"
                | "tagged"
                | "before"
                | "until"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ordinals() {
        assert_eq!(cardinal("45"), Some(45));
        assert_eq!(cardinal("forty-five"), Some(45));
        assert_eq!(cardinal("twelve"), Some(12));
        assert_eq!(cardinal("1234567"), None);
        assert_eq!(ordinal("3rd"), Some(3));
        assert_eq!(ordinal("twenty-first"), Some(21));
        assert_eq!(ordinal("thirtieth"), Some(30));
        assert_eq!(ordinal("first"), Some(1));
        assert_eq!(ordinal("3x"), None);
        assert_eq!(ordinal("th"), None);
    }

    #[test]
    fn names() {
        assert_eq!(weekday("sat", false), None);
        assert_eq!(weekday("sat", true), Some(Weekday::Sat));
        assert_eq!(weekday_plural("mondays"), Some(Weekday::Mon));
        assert_eq!(month("sept"), Some(9));
    }
}
