use chrono::NaiveDate;

use super::*;
use crate::chat::datetime::When;
use crate::chat::test_util::ctx;

fn rule(phrase: &str) -> String {
    let s = Sentence::new(phrase);
    let c = ctx();
    let (spec, end) = rule_at(&s, 0, &c).unwrap_or_else(|| panic!("{phrase:?} is a rule"));
    assert_eq!(end, s.len(), "{phrase:?} not fully read");
    spec.rrule(&c).unwrap()
}

#[test]
fn simple_frequencies() {
    assert_eq!(rule("every day"), "FREQ=DAILY");
    assert_eq!(rule("daily"), "FREQ=DAILY");
    assert_eq!(rule("every other day"), "FREQ=DAILY;INTERVAL=2");
    assert_eq!(rule("every 2 weeks"), "FREQ=WEEKLY;INTERVAL=2");
    assert_eq!(rule("every three months"), "FREQ=MONTHLY;INTERVAL=3");
    assert_eq!(rule("biweekly"), "FREQ=WEEKLY;INTERVAL=2");
    assert_eq!(rule("quarterly"), "FREQ=MONTHLY;INTERVAL=3");
    assert_eq!(rule("annually"), "FREQ=YEARLY");
    assert_eq!(rule("every year"), "FREQ=YEARLY");
    assert_eq!(rule("every 4 hours"), "FREQ=HOURLY;INTERVAL=4");
    assert_eq!(rule("once a week"), "FREQ=WEEKLY");
    assert_eq!(rule("every second week"), "FREQ=WEEKLY;INTERVAL=2");
}

#[test]
fn weekdays() {
    assert_eq!(rule("every weekday"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    assert_eq!(rule("on weekends"), "FREQ=WEEKLY;BYDAY=SA,SU");
    assert_eq!(rule("every monday"), "FREQ=WEEKLY;BYDAY=MO");
    assert_eq!(rule("every tuesday and thursday"), "FREQ=WEEKLY;BYDAY=TU,TH");
    assert_eq!(rule("every mon, wed and fri"), "FREQ=WEEKLY;BYDAY=MO,WE,FR");
    assert_eq!(rule("on mondays"), "FREQ=WEEKLY;BYDAY=MO");
    assert_eq!(rule("every other friday"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR");
    assert_eq!(rule("weekly on sunday"), "FREQ=WEEKLY;BYDAY=SU");
    assert_eq!(rule("every 2 weeks on tuesday"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU");
}

#[test]
fn days_of_the_month_and_year() {
    assert_eq!(rule("on the 1st of every month"), "FREQ=MONTHLY;BYMONTHDAY=1");
    assert_eq!(rule("every month on the 15th"), "FREQ=MONTHLY;BYMONTHDAY=15");
    assert_eq!(rule("on the 1st and 15th of each month"), "FREQ=MONTHLY;BYMONTHDAY=1,15");
    assert_eq!(rule("every last friday of the month"), "FREQ=MONTHLY;BYDAY=-1FR");
    assert_eq!(rule("every first monday of the month"), "FREQ=MONTHLY;BYDAY=1MO");
    assert_eq!(rule("on the last day of every month"), "FREQ=MONTHLY;BYMONTHDAY=-1");
    assert_eq!(rule("the second tuesday of every month"), "FREQ=MONTHLY;BYDAY=2TU");
    assert_eq!(rule("every 15th"), "FREQ=MONTHLY;BYMONTHDAY=15");
    assert_eq!(rule("every year on March 3"), "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3");
    assert_eq!(rule("every 3rd of march"), "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3");
    assert_eq!(rule("on march 3 every year"), "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3");
    assert_eq!(rule("monthly on the 1st"), "FREQ=MONTHLY;BYMONTHDAY=1");
    assert!(
        rule_at(&Sentence::new("every year on february 30"), 0, &ctx()).and_then(|(r, _)| r.rrule(&ctx())).is_none()
    );
}

#[test]
fn nth_weekday_of_a_named_month_every_year() {
    assert_eq!(rule("every first monday of january"), "FREQ=YEARLY;BYMONTH=1;BYDAY=1MO");
    assert_eq!(rule("every fourth thursday of november"), "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH");
    assert_eq!(rule("the last friday of march every year"), "FREQ=YEARLY;BYMONTH=3;BYDAY=-1FR");
    assert_eq!(rule("yearly on the last friday of june"), "FREQ=YEARLY;BYMONTH=6;BYDAY=-1FR");
    assert_eq!(rule("every last day of february"), "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1");
    // Without "every" it is one date, not a rule.
    assert!(rule_at(&Sentence::new("the first monday of january"), 0, &ctx()).is_none());
}

#[test]
fn days_left_out() {
    assert_eq!(rule("every weekday except fridays"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH");
    assert_eq!(rule("every day except sundays"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA");
    assert_eq!(rule("every day but sunday"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA");
    assert_eq!(rule("daily except weekends"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    assert_eq!(rule("every mon, wed and fri but not on wednesday"), "FREQ=WEEKLY;BYDAY=MO,FR");
    assert_eq!(rule("on weekdays excluding mondays and fridays"), "FREQ=WEEKLY;BYDAY=TU,WE,TH");
    assert_eq!(rule("every other week on tue and thu except tuesdays"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH");
    assert_eq!(rule("every day except for the weekend"), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    // Nothing to leave out, nothing left, or no weekdays in the rule: the
    // phrase is not the rule's.
    for phrase in [
        "every weekday except saturdays",
        "every weekend except weekends",
        "every other day except sundays",
        "every week except fridays",
        "every month except december",
        "every last friday of the month except fridays",
    ] {
        let s = Sentence::new(phrase);
        let (_, end) = rule_at(&s, 0, &ctx()).unwrap();
        assert!(end < s.len(), "{phrase:?} took its exception");
    }
}

#[test]
fn tails() {
    assert_eq!(rule("every day until december 31"), "FREQ=DAILY;UNTIL=20261231T235959Z");
    let s = Sentence::new("every monday starting next week");
    let (spec, _) = rule_at(&s, 0, &ctx()).unwrap();
    assert_eq!(spec.start, NaiveDate::from_ymd_opt(2026, 11, 30));
    let s = Sentence::new("every! 3 days");
    assert!(rule_at(&s, 0, &ctx()).unwrap().0.from_completion);
}

#[test]
fn first_due_dates() {
    let c = ctx();
    let due = |phrase: &str, when: When| {
        let s = Sentence::new(phrase);
        let (spec, _) = rule_at(&s, 0, &c).unwrap();
        let d = spec.first_due(&when, &c).unwrap();
        (d.at.to_rfc3339(), d.all_day)
    };
    let at = |h, m| When {
        time: Some(datetime::Clock { hour: h, minute: m, meridiem: None, h24: true, end_of_day: false }),
        ..When::default()
    };
    assert_eq!(due("every monday", When::default()), ("2026-11-30T00:00:00+00:00".into(), true));
    assert_eq!(due("every day", When::default()), ("2026-11-26T00:00:00+00:00".into(), true));
    assert_eq!(due("daily", at(8, 0)), ("2026-11-27T08:00:00+00:00".into(), false));
    assert_eq!(due("every weekday", at(9, 30)), ("2026-11-26T09:30:00+00:00".into(), false));
    assert_eq!(due("every last friday of the month", When::default()), ("2026-11-27T00:00:00+00:00".into(), true));
    assert_eq!(due("every first monday of the month", When::default()), ("2026-12-07T00:00:00+00:00".into(), true));
    assert_eq!(due("every year on march 3", When::default()), ("2027-03-03T00:00:00+00:00".into(), true));
    assert_eq!(due("every morning", When::default()), ("2026-11-26T09:00:00+00:00".into(), false));
    assert_eq!(due("every evening", When::default()), ("2026-11-26T18:00:00+00:00".into(), false));
    // Said on a Thursday at 09:00: today's 9:00 would count, but Thursday and
    // Friday are left out.
    assert_eq!(due("every weekday except thu and fri", at(9, 0)), ("2026-11-30T09:00:00+00:00".into(), false));
    assert_eq!(due("every weekday except fridays", at(9, 0)), ("2026-11-26T09:00:00+00:00".into(), false));
    assert_eq!(due("every first monday of january", When::default()), ("2027-01-04T00:00:00+00:00".into(), true));
    assert_eq!(due("every fourth thursday of november", When::default()), ("2026-11-26T00:00:00+00:00".into(), true));
}
