//! Timestamps as JSON strings, written in one piece.
//!
//! chrono's `Serialize` writes a `DateTime<Utc>` through `fmt`, a character or
//! two at a time, and serde_json escapes every piece it is handed: in a page of
//! 50 tasks (six timestamps each) that was the largest single cost of the JSON
//! (`perf`, `docs/benchmarks.md`). These functions write the same text (chrono's
//! own: RFC 3339, `Z`, fractional seconds in groups of three digits as needed)
//! into a stack buffer and hand it to the serializer once. Reading stays chrono's.
//!
//! Use with `#[serde(serialize_with = "rfc3339::serialize")]` (or
//! `serialize_opt` for an `Option`).

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// `2026-12-01T09:00:00.123456789Z` is the longest text written here.
const MAX_LEN: usize = 30;

/// Serializes `t` exactly as chrono does, faster.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; MAX_LEN];
    match write(t, &mut buf) {
        Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).expect("ASCII digits and separators")),
        // Years outside 0000–9999 and leap seconds: chrono's own path.
        None => serde::Serialize::serialize(t, s),
    }
}

/// [`serialize`] for an optional timestamp (`None` is `null`).
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

/// Writes `t` into `buf`, returning its length; `None` when chrono's text would
/// not fit the fixed layout (a year outside 0000–9999, a leap second).
fn write(t: &DateTime<Utc>, buf: &mut [u8; MAX_LEN]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    digits(&mut buf[0..4], year);
    buf[4] = b'-';
    digits(&mut buf[5..7], t.month());
    buf[7] = b'-';
    digits(&mut buf[8..10], t.day());
    buf[10] = b'T';
    digits(&mut buf[11..13], t.hour());
    buf[13] = b':';
    digits(&mut buf[14..16], t.minute());
    buf[16] = b':';
    digits(&mut buf[17..19], t.second());
    let mut n = 19;
    let (fraction, width) = if nanos == 0 {
        (0, 0)
    } else if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1_000) {
        (nanos / 1_000, 6)
    } else {
        (nanos, 9)
    };
    if width > 0 {
        buf[n] = b'.';
        digits(&mut buf[n + 1..n + 1 + width], fraction);
        n += 1 + width;
    }
    buf[n] = b'Z';
    Some(n + 1)
}

/// `value` in decimal, zero-padded to the width of `out`.
fn digits(out: &mut [u8], mut value: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Ours(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    #[derive(Serialize)]
    struct OursOpt(#[serde(serialize_with = "serialize_opt")] Option<DateTime<Utc>>);

    fn same_as_chrono(t: DateTime<Utc>) {
        let chrono = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::to_string(&Ours(t)).unwrap(), chrono, "{t:?}");
        assert_eq!(serde_json::to_string(&OursOpt(Some(t))).unwrap(), chrono, "{t:?}");
    }

    #[test]
    fn the_text_is_chronos_for_every_precision_and_edge() {
        let base = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        for nanos in [0, 1, 10, 999, 1_000, 123_000, 123_456_000, 100_000_000, 120_000_000, 999_999_999, 5_000_000] {
            same_as_chrono(base + chrono::Duration::nanoseconds(nanos));
        }
        for t in [
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 12, 34, 56).unwrap(),
            // Outside the fixed layout: chrono's own path.
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ] {
            same_as_chrono(t);
        }
        assert_eq!(serde_json::to_string(&OursOpt(None)).unwrap(), "null");
    }

    #[test]
    fn a_leap_second_is_chronos_too() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        same_as_chrono(leap);
    }

    #[test]
    fn random_instants_match() {
        // A fixed-seed walk over four centuries, at every precision.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % 12_622_780_800) as i64; // 1970..2370
            let nanos = match x % 4 {
                0 => 0,
                1 => (x >> 8) as u32 % 1_000 * 1_000_000,
                2 => (x >> 8) as u32 % 1_000_000 * 1_000,
                _ => (x >> 8) as u32 % 1_000_000_000,
            };
            same_as_chrono(DateTime::from_timestamp(secs, nanos).unwrap());
        }
    }
}
