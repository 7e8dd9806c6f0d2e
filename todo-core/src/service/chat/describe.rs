//! How the assistant writes a task and a time: in the user's time zone, relative
//! to now.

use chrono::{DateTime, Datelike, Utc};

use crate::domain::{Status, Task, Timezone};

/// `'buy milk' for tomorrow 5:00 PM, high priority, every week` in the user's time zone.
pub fn describe(t: &Task, tz: Timezone, now: DateTime<Utc>) -> String {
    let mut s = format!("'{}'", t.title);
    if let Some(due) = t.due_at {
        s.push_str(" for ");
        s.push_str(&when(due, t.all_day, tz, now));
    }
    if t.priority != crate::domain::Priority::Medium {
        s.push_str(&format!(", {} priority", t.priority));
    }
    if let Some(r) = &t.recurrence {
        s.push_str(&format!(", {}", r.describe()));
    }
    if let Some(remind) = t.remind_at
        && t.is_pending()
    {
        s.push_str(&format!(", reminder {}", when(remind, false, tz, now)));
    }
    if !t.tags.is_empty() {
        let tags: Vec<String> = t.tags.iter().map(|g| format!("#{g}")).collect();
        s.push_str(&format!(" {}", tags.join(" ")));
    }
    if t.status == Status::Completed {
        s.push_str(" (done)");
    }
    s
}

/// `today 5:00 PM`, `tomorrow`, `Friday 9:30 AM`, `Dec 3`, `Jan 4, 2027 8:00 AM`.
pub fn when(t: DateTime<Utc>, all_day: bool, tz: Timezone, now: DateTime<Utc>) -> String {
    let local = t.with_timezone(&tz.tz());
    let today = now.with_timezone(&tz.tz()).date_naive();
    let day = local.date_naive();
    let days = (day - today).num_days();
    let date = match days {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        -1 => "yesterday".to_owned(),
        2..=6 => local.format("%A").to_string(),
        _ if local.year() == today.year() => local.format("%b %-d").to_string(),
        _ => local.format("%b %-d, %Y").to_string(),
    };
    if all_day { date } else { format!("{date} {}", local.format("%-I:%M %p")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_naturally() {
        let now: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
        let utc = Timezone::default();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(when(at("2026-11-26T17:00:00Z"), false, utc, now), "today 5:00 PM");
        assert_eq!(when(at("2026-11-27T00:00:00Z"), true, utc, now), "tomorrow");
        assert_eq!(when(at("2026-11-30T09:30:00Z"), false, utc, now), "Monday 9:30 AM");
        assert_eq!(when(at("2026-12-25T00:00:00Z"), true, utc, now), "Dec 25");
        assert_eq!(when(at("2027-01-04T08:00:00Z"), false, utc, now), "Jan 4, 2027 8:00 AM");
        let ny = Timezone::parse("America/New_York").unwrap();
        assert_eq!(when(at("2026-11-27T23:00:00Z"), false, ny, now), "tomorrow 6:00 PM");
    }
}
