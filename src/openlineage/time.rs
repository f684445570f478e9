//! Timestamps as emitters really write them. The spec says RFC 3339 with an offset, but Python's
//! `datetime.isoformat()` on a naive datetime has none (the client's own test fixtures do this),
//! Java prints nanoseconds, and people type a space for `T`. We accept those rather than lose the
//! event; what we cannot read is rejected, because event time drives run state and as-of lineage.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

/// Parses `YYYY-MM-DD[T| ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM|±HH]`.
///
/// No offset means UTC (the only sensible default for a server that serves many time zones).
/// Fractions beyond nanoseconds are truncated, not rounded, so a value never moves into the next
/// second.
pub fn parse_timestamp(input: &str) -> Option<DateTime<Utc>> {
    let s = input.trim();
    if !s.is_char_boundary(10) || !matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (date, rest) = (&s[..10], &s[11..]);
    let clock_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(rest.len());
    let (clock, offset) = rest.split_at(clock_len);
    let clock = match clock.split_once('.') {
        Some((hms, fraction)) if fraction.len() > 9 => format!("{hms}.{}", &fraction[..9]),
        _ => clock.to_owned(),
    };
    let naive =
        NaiveDateTime::parse_from_str(&format!("{date}T{clock}"), "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let offset = offset.trim_start();
    if offset.is_empty() || offset.eq_ignore_ascii_case("z") {
        return Some(naive.and_utc());
    }
    let local = naive.and_local_timezone(parse_offset(offset)?).single()?;
    Some(local.with_timezone(&Utc))
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    fn iso(s: &str) -> Option<String> {
        parse_timestamp(s).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
    }

    #[test]
    fn accepts_what_emitters_send() {
        assert_eq!(
            iso("2020-12-28T19:51:01.641Z").as_deref(),
            Some("2020-12-28T19:51:01.641000000Z")
        );
        assert_eq!(
            iso("2020-12-28T19:52:00.001+10:00").as_deref(),
            Some("2020-12-28T09:52:00.001000000Z")
        );
        assert_eq!(
            iso("2021-11-03T10:53:52.427343").as_deref(),
            Some("2021-11-03T10:53:52.427343000Z")
        );
        assert_eq!(
            iso("2021-11-03 10:53:52").as_deref(),
            Some("2021-11-03T10:53:52.000000000Z")
        );
        assert_eq!(
            iso("2021-11-03t10:53:52z").as_deref(),
            Some("2021-11-03T10:53:52.000000000Z")
        );
        assert_eq!(
            iso("2021-11-03T10:53:52.123456789-0130").as_deref(),
            Some("2021-11-03T12:23:52.123456789Z")
        );
        assert_eq!(
            iso("2021-11-03T10:53:52.1234567891234+00").as_deref(),
            Some("2021-11-03T10:53:52.123456789Z")
        );
        assert_eq!(
            iso("2021-11-03T10:53:52 +02:00").as_deref(),
            Some("2021-11-03T08:53:52.000000000Z")
        );
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for s in [
            "",
            "yesterday",
            "2021-11-03",
            "2021-11-03T10:53",
            "2021-13-03T10:53:52Z",
            "2021-11-03T10:53:52+25:00",
            "2021-11-03T10:53:52 CET",
            "1636000000",
            "2021-11-03T10:53:52.Z",
            "2021-11-03é10:53:52",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
