//! Hand-written timestamp readers: every AWS format has its own layout, and a
//! general date library would cost more than the rest of the line parser.

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) for days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

pub fn epoch_ms(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
) -> Option<i64> {
    // Years outside 0..=9999 are not dates any log writes, and would
    // overflow the day arithmetic for extreme values.
    if !(0..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
        || millis > 999
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(
        ((days * 24 + hour as i64) * 60 + minute as i64) * 60_000
            + second as i64 * 1000
            + millis as i64,
    )
}

#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Reads `.fff…` at `at`; returns (millis, bytes consumed).
fn fraction(b: &[u8], at: usize) -> (u32, usize) {
    if b.get(at) != Some(&b'.') && b.get(at) != Some(&b',') {
        return (0, 0);
    }
    let mut i = at + 1;
    let mut ms = 0u32;
    let mut n = 0;
    while let Some(c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if n < 3 {
            ms = ms * 10 + (c - b'0') as u32;
        }
        n += 1;
        i += 1;
    }
    if n == 0 {
        return (0, 0);
    }
    for _ in n..3 {
        ms *= 10;
    }
    (ms, i - at)
}

/// Reads `Z`, `±HH:MM`, `±HHMM`, ` UTC` or nothing at `at`; returns (offset minutes, consumed).
fn zone(b: &[u8], at: usize) -> Option<(i64, usize)> {
    match b.get(at) {
        None => Some((0, 0)),
        Some(b'Z') | Some(b'z') => Some((0, 1)),
        Some(&sign @ (b'+' | b'-')) => {
            let h = digits(b, at + 1, 2)? as i64;
            let (m, used) = if b.get(at + 3) == Some(&b':') {
                (digits(b, at + 4, 2)? as i64, 6)
            } else if let Some(m) = digits(b, at + 3, 2) {
                (m as i64, 5)
            } else {
                (0, 3)
            };
            let off = h * 60 + m;
            Some((if sign == b'-' { -off } else { off }, used))
        }
        _ => None,
    }
}

/// ISO 8601 / RFC 3339: `2018-07-02T22:23:00.186641Z`, `2019-12-04 21:02:31`,
/// `2020-07-10T18:27:25+02:00`. The whole string must be consumed.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let (ms, used) = parse_iso8601_prefix(s)?;
    if used == s.len() {
        Some(ms)
    } else {
        None
    }
}

/// Like [`parse_iso8601`] but stops at the end of the timestamp and returns the bytes used.
pub fn parse_iso8601_prefix(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b'T' && b[10] != b' ' && b[10] != b't' {
        return None;
    }
    let year = digits(b, 0, 4)? as i64;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    let (millis, fused) = fraction(b, 19);
    let mut at = 19 + fused;
    let (offset, zused) = zone(b, at).unwrap_or((0, 0));
    at += zused;
    let ms = epoch_ms(year, month, day, hour, minute, second, millis)?;
    Some((ms - offset * 60_000, at))
}

pub fn month_from_abbrev(m: &[u8]) -> Option<u32> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

pub const MONTH_ABBREV: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Common Log Format time, without brackets: `06/Feb/2019:00:00:38 +0000`.
pub fn parse_clf(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let day = digits(b, 0, 2)?;
    let month = month_from_abbrev(&b[3..6])?;
    let year = digits(b, 7, 4)? as i64;
    let hour = digits(b, 12, 2)?;
    let minute = digits(b, 15, 2)?;
    let second = digits(b, 18, 2)?;
    let (millis, fused) = fraction(b, 20);
    let mut at = 20 + fused;
    let mut offset = 0;
    if b.get(at) == Some(&b' ') {
        at += 1;
        let (o, used) = zone(b, at)?;
        offset = o;
        at += used;
    }
    if at != b.len() {
        return None;
    }
    Some(epoch_ms(year, month, day, hour, minute, second, millis)? - offset * 60_000)
}

/// Redshift audit time: `Mon, 9 Jul 2018 23:23:13:277` (milliseconds after a colon).
pub fn parse_redshift(s: &str) -> Option<i64> {
    let s = s.trim();
    let rest = s.split_once(", ").map(|(_, r)| r).unwrap_or(s);
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_from_abbrev(parts.next()?.as_bytes())?;
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let mut t = time.split(':');
    let hour: u32 = t.next()?.parse().ok()?;
    let minute: u32 = t.next()?.parse().ok()?;
    let second: u32 = t.next()?.parse().ok()?;
    let millis: u32 = match t.next() {
        Some(ms) => ms.parse().ok()?,
        None => 0,
    };
    if t.next().is_some() {
        return None;
    }
    epoch_ms(year, month, day, hour, minute, second, millis)
}

/// Syslog RFC 3164 time `Oct 11 22:14:15` (no year; the caller supplies one).
pub fn parse_bsd_syslog(s: &str, year: i64) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 15 || b[3] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    let month = month_from_abbrev(&b[0..3])?;
    let day = if b[4] == b' ' {
        digits(b, 5, 1)?
    } else {
        digits(b, 4, 2)?
    };
    let hour = digits(b, 7, 2)?;
    let minute = digits(b, 10, 2)?;
    let second = digits(b, 13, 2)?;
    epoch_ms(year, month, day, hour, minute, second, 0)
}

/// Writes epoch milliseconds as `2018-07-02T22:23:00.186000Z` (microsecond
/// digits, as ALB writes them) when `micros` is set, else `…:00.186Z`.
pub fn format_iso8601(ms: i64, micros: bool, out: &mut String) {
    use std::fmt::Write;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let _ = write!(out, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}");
    if micros {
        out.push_str("000");
    }
    out.push('Z');
}

/// Writes epoch milliseconds as CLF time `06/Feb/2019:00:00:38 +0000` (second precision).
pub fn format_clf(ms: i64, out: &mut String) {
    use std::fmt::Write;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{d:02}/{}/{y:04}:{:02}:{:02}:{:02} +0000",
        MONTH_ABBREV[m as usize - 1],
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_variants() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_iso8601("2018-07-02T22:23:00.186641Z"),
            Some(1_530_570_180_186)
        );
        assert_eq!(
            parse_iso8601("2018-07-02T23:23:00.186+01:00"),
            Some(1_530_570_180_186)
        );
        assert_eq!(
            parse_iso8601("2019-12-04 21:02:31"),
            Some(1_575_493_351_000)
        );
        assert_eq!(parse_iso8601("2019-02-30T00:00:00Z"), None);
        assert_eq!(parse_iso8601("2019-12-04T21:02:31Zjunk"), None);
    }

    #[test]
    fn clf_and_redshift() {
        assert_eq!(
            parse_clf("06/Feb/2019:00:00:38 +0000"),
            Some(1_549_411_238_000)
        );
        assert_eq!(
            parse_clf("10/Oct/2000:13:55:36 -0700"),
            Some(971_211_336_000)
        );
        assert_eq!(
            parse_redshift("Mon, 9 Jul 2018 23:23:13:277"),
            Some(1_531_178_593_277)
        );
        assert_eq!(
            parse_redshift("Mon, 9 Jul 9223372036854775807 23:23:13:277"),
            None
        );
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 365, 11_016, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn formatting_round_trips() {
        let mut s = String::new();
        format_iso8601(1_530_570_180_186, true, &mut s);
        assert_eq!(s, "2018-07-02T22:23:00.186000Z");
        s.clear();
        format_clf(1_549_411_238_000, &mut s);
        assert_eq!(s, "06/Feb/2019:00:00:38 +0000");
    }
}
