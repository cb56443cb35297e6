//! `parseDate`, `formatDate` and `strftime`: Java date patterns
//! (`yyyy-MM-dd'T'HH:mm:ss.SSSX`) and strftime directives (`%Y-%m-%d`),
//! in UTC or a fixed UTC offset. Named time zones (`America/New_York`)
//! would need a time-zone database, which this crate does not carry; they
//! are refused with an error rather than read as UTC.

use crate::period::{civil_from_days, days_from_civil};

const DAY_MS: i64 = 86_400_000;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A time-zone argument as an offset from UTC in milliseconds: `UTC`,
/// `GMT`, `Z`, `+05:30`, `-0800`, `+05`, `UTC+2`, `GMT-03:30`.
pub fn parse_zone(zone: &str) -> Option<i64> {
    let z = zone.trim();
    let rest = ["UTC", "GMT", "utc", "gmt"]
        .iter()
        .find_map(|p| z.strip_prefix(p))
        .unwrap_or(z);
    if rest.is_empty() || rest == "Z" || rest == "z" {
        return Some(0);
    }
    let (offset, used) = parse_offset(rest)?;
    (used == rest.len()).then_some(offset)
}

/// `±HH`, `±HHMM` or `±HH:MM` at the start of `s`: the offset and the bytes read.
fn parse_offset(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |from: usize| -> Option<i64> {
        let d = s.get(from..from + 2)?;
        d.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| d.parse().ok())?
    };
    let hours = digits(1)?;
    let (minutes, used) = if b.get(3) == Some(&b':') {
        (digits(4)?, 6)
    } else if let Some(m) = digits(3) {
        (m, 5)
    } else {
        (0, 3)
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some((sign * (hours * 3_600_000 + minutes * 60_000), used))
}

/// One element of a Java date pattern.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Field(char, usize),
}

const JAVA_LETTERS: &str = "yuMLdDHhkKmsSaEXxZz";

fn java_parts(pattern: &str) -> Result<Vec<Part>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a quote; 'text' is literal text.
            if chars.get(i + 1) == Some(&'\'') {
                parts.push(Part::Literal("'".into()));
                i += 2;
                continue;
            }
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated quote in the date pattern".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        text.push(*c);
                        i += 1;
                    }
                }
            }
            parts.push(Part::Literal(text));
        } else if c.is_ascii_alphabetic() {
            if !JAVA_LETTERS.contains(c) {
                return Err(format!(
                    "the date pattern letter '{c}' is not supported (supported: {JAVA_LETTERS})"
                ));
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            parts.push(Part::Field(c, n));
            i += n;
        } else {
            parts.push(Part::Literal(c.to_string()));
            i += 1;
        }
    }
    Ok(parts)
}

/// Checks a Java date pattern when the query is compiled.
pub fn check_java_pattern(pattern: &str) -> Result<(), String> {
    java_parts(pattern).map(|_| ())
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    weekday: usize,
    day_of_year: i64,
}

fn civil(ms: i64, offset_ms: i64) -> Option<Civil> {
    let local = ms.checked_add(offset_ms)?;
    let days = local.div_euclid(DAY_MS);
    let in_day = local.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    Some(Civil {
        year,
        month,
        day,
        hour: in_day / 3_600_000,
        minute: in_day / 60_000 % 60,
        second: in_day / 1000 % 60,
        milli: in_day % 1000,
        // 1970-01-01 was a Thursday (index 3 from Monday).
        weekday: (days + 3).rem_euclid(7) as usize,
        day_of_year: days - days_from_civil(year, 1, 1) + 1,
    })
}

fn offset_text(offset_ms: i64, colon: bool, z_for_zero: bool) -> String {
    if offset_ms == 0 && z_for_zero {
        return "Z".into();
    }
    let sign = if offset_ms < 0 { '-' } else { '+' };
    let m = offset_ms.abs() / 60_000;
    if colon {
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    } else {
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    }
}

/// `formatDate(t, pattern[, zone])`.
pub fn format_java(ms: i64, pattern: &str, offset_ms: i64) -> Option<String> {
    let parts = java_parts(pattern).ok()?;
    let t = civil(ms, offset_ms)?;
    let mut out = String::new();
    for part in parts {
        let (c, n) = match part {
            Part::Literal(text) => {
                out.push_str(&text);
                continue;
            }
            Part::Field(c, n) => (c, n),
        };
        let num = |v: i64| format!("{v:0n$}");
        match c {
            'y' | 'u' if n == 2 => out.push_str(&format!("{:02}", t.year.rem_euclid(100))),
            'y' | 'u' => out.push_str(&num(t.year)),
            'M' | 'L' if n >= 4 => out.push_str(MONTHS[t.month as usize - 1]),
            'M' | 'L' if n == 3 => out.push_str(&MONTHS[t.month as usize - 1][..3]),
            'M' | 'L' => out.push_str(&num(t.month.into())),
            'd' => out.push_str(&num(t.day.into())),
            'D' => out.push_str(&num(t.day_of_year)),
            'H' => out.push_str(&num(t.hour)),
            'k' => out.push_str(&num(if t.hour == 0 { 24 } else { t.hour })),
            'K' => out.push_str(&num(t.hour % 12)),
            'h' => out.push_str(&num(if t.hour % 12 == 0 { 12 } else { t.hour % 12 })),
            'm' => out.push_str(&num(t.minute)),
            's' => out.push_str(&num(t.second)),
            'S' => {
                // Fraction of a second: milliseconds, padded or cut to n digits.
                let digits = format!("{:03}", t.milli);
                let frac: String = digits
                    .chars()
                    .chain(std::iter::repeat('0'))
                    .take(n)
                    .collect();
                out.push_str(&frac);
            }
            'a' => out.push_str(if t.hour < 12 { "AM" } else { "PM" }),
            'E' if n >= 4 => out.push_str(WEEKDAYS[t.weekday]),
            'E' => out.push_str(&WEEKDAYS[t.weekday][..3]),
            'X' => out.push_str(&match n {
                1 if offset_ms % 3_600_000 == 0 => {
                    if offset_ms == 0 {
                        "Z".to_string()
                    } else {
                        offset_text(offset_ms, false, true)[..3].to_string()
                    }
                }
                1 | 2 => offset_text(offset_ms, false, true),
                _ => offset_text(offset_ms, true, true),
            }),
            'x' => out.push_str(&offset_text(offset_ms, n >= 3, false)),
            'Z' => out.push_str(&offset_text(offset_ms, n >= 5, false)),
            'z' => out.push_str(&if offset_ms == 0 {
                "UTC".to_string()
            } else {
                format!("GMT{}", offset_text(offset_ms, true, false))
            }),
            _ => return None,
        }
    }
    Some(out)
}

fn is_numeric_field(p: Option<&Part>) -> bool {
    matches!(p, Some(Part::Field(c, n)) if matches!(c, 'y' | 'u' | 'd' | 'D' | 'H' | 'h' | 'k' | 'K' | 'm' | 's' | 'S') || (matches!(c, 'M' | 'L') && *n <= 2))
}

fn take_name(text: &str, names: &[&str], n: usize) -> Option<(usize, usize)> {
    for (i, name) in names.iter().enumerate() {
        let candidates: &[&str] = if n >= 4 { &[name] } else { &[&name[..3]] };
        for cand in candidates {
            if text
                .get(..cand.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(cand))
            {
                return Some((i, cand.len()));
            }
        }
    }
    None
}

/// `parseDate(text, pattern[, zone])`: epoch milliseconds, or `None` when
/// the whole text does not match the pattern or names an impossible date.
/// An offset in the text (`X`, `Z`, `x`, `z`) wins over `zone`.
pub fn parse_java(text: &str, pattern: &str, default_offset_ms: i64) -> Option<i64> {
    let parts = java_parts(pattern).ok()?;
    let (mut year, mut month, mut day) = (1970i64, 1u32, 1u32);
    let (mut hour, mut minute, mut second, mut milli) = (0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut twelve_hour = false;
    let mut offset = default_offset_ms;
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(lit) => rest = rest.strip_prefix(lit.as_str())?,
            Part::Field(c, n) => {
                let (c, n) = (*c, *n);
                if is_numeric_field(Some(part)) {
                    let avail = rest.bytes().take_while(u8::is_ascii_digit).count();
                    // Adjacent numeric fields (`yyyyMMdd`) split by width.
                    let width = if is_numeric_field(parts.get(i + 1))
                        || (matches!(c, 'y' | 'u') && n == 2)
                    {
                        n
                    } else {
                        avail.min(if c == 'S' { 9 } else { 10 })
                    };
                    if width == 0 || avail < width {
                        return None;
                    }
                    let digits = &rest[..width];
                    rest = &rest[width..];
                    let v: i64 = digits.parse().ok()?;
                    match c {
                        'y' | 'u' if n == 2 => year = 2000 + v,
                        'y' | 'u' => year = v,
                        'M' | 'L' => month = u32::try_from(v).ok()?,
                        'd' => day = u32::try_from(v).ok()?,
                        'D' => {
                            month = 1;
                            day = 1;
                            milli += (v - 1) * DAY_MS;
                        }
                        'H' => hour = v,
                        'k' => hour = v % 24,
                        'h' | 'K' => {
                            hour = v % 12;
                            twelve_hour = true;
                        }
                        'm' => minute = v,
                        's' => second = v,
                        'S' => {
                            let padded: String = digits
                                .chars()
                                .chain(std::iter::repeat('0'))
                                .take(3)
                                .collect();
                            milli += padded.parse::<i64>().ok()?;
                        }
                        _ => return None,
                    }
                } else {
                    match c {
                        'M' | 'L' => {
                            let (idx, used) = take_name(rest, &MONTHS, n)?;
                            month = idx as u32 + 1;
                            rest = &rest[used..];
                        }
                        'E' => {
                            let (_, used) = take_name(rest, &WEEKDAYS, n)?;
                            rest = &rest[used..];
                        }
                        'a' => {
                            let upper = rest.get(..2)?.to_ascii_uppercase();
                            pm = Some(match upper.as_str() {
                                "AM" => false,
                                "PM" => true,
                                _ => return None,
                            });
                            rest = &rest[2..];
                        }
                        'X' | 'x' | 'Z' | 'z' => {
                            if let Some(r) = rest.strip_prefix('Z') {
                                offset = 0;
                                rest = r;
                            } else {
                                let r = ["UTC", "GMT"]
                                    .iter()
                                    .find_map(|p| rest.strip_prefix(p))
                                    .unwrap_or(rest);
                                match parse_offset(r) {
                                    Some((o, used)) => {
                                        offset = o;
                                        rest = &r[used..];
                                    }
                                    None if r.len() < rest.len() => {
                                        offset = 0;
                                        rest = r;
                                    }
                                    None => return None,
                                }
                            }
                        }
                        _ => return None,
                    }
                }
            }
        }
    }
    if !rest.is_empty() {
        return None;
    }
    if let Some(pm) = pm {
        if pm && hour < 12 {
            hour += 12;
        }
    } else if twelve_hour && hour > 12 {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if !(-100_000..=100_000).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject 2024-02-30 rather than rolling over into March.
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    let local = days * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli;
    local.checked_sub(offset)
}

/// Checks strftime directives when the query is compiled.
pub fn check_strftime(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some(d) if "YymdeHIMSLfpbBhaAjzZsFT%".contains(d) => {}
                Some(d) => return Err(format!("the strftime directive '%{d}' is not supported")),
                None => return Err("the strftime format ends with a lone '%'".into()),
            }
        }
    }
    Ok(())
}

/// `strftime(t, format[, zone])`.
pub fn format_strftime(ms: i64, pattern: &str, offset_ms: i64) -> Option<String> {
    let t = civil(ms, offset_ms)?;
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let piece = match chars.next()? {
            'Y' => format!("{:04}", t.year),
            'y' => format!("{:02}", t.year.rem_euclid(100)),
            'm' => format!("{:02}", t.month),
            'd' => format!("{:02}", t.day),
            'e' => format!("{:2}", t.day),
            'H' => format!("{:02}", t.hour),
            'I' => format!("{:02}", if t.hour % 12 == 0 { 12 } else { t.hour % 12 }),
            'M' => format!("{:02}", t.minute),
            'S' => format!("{:02}", t.second),
            'L' => format!("{:03}", t.milli),
            'f' => format!("{:06}", t.milli * 1000),
            'p' => (if t.hour < 12 { "AM" } else { "PM" }).to_string(),
            'b' | 'h' => MONTHS[t.month as usize - 1][..3].to_string(),
            'B' => MONTHS[t.month as usize - 1].to_string(),
            'a' => WEEKDAYS[t.weekday][..3].to_string(),
            'A' => WEEKDAYS[t.weekday].to_string(),
            'j' => format!("{:03}", t.day_of_year),
            'z' => offset_text(offset_ms, false, false),
            'Z' if offset_ms == 0 => "UTC".to_string(),
            'Z' => offset_text(offset_ms, true, false),
            's' => ms.div_euclid(1000).to_string(),
            'F' => format!("{:04}-{:02}-{:02}", t.year, t.month, t.day),
            'T' => format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
            '%' => "%".to_string(),
            _ => return None,
        };
        out.push_str(&piece);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-02-29 13:05:09.042 UTC, a Thursday.
    const T: i64 = 1_709_211_909_042;

    #[test]
    fn formats_java_patterns() {
        assert_eq!(
            format_java(T, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", 0).unwrap(),
            "2024-02-29T13:05:09.042Z"
        );
        assert_eq!(
            format_java(T, "EEE, d MMM yy h:mm a Z", 2 * 3_600_000).unwrap(),
            "Thu, 29 Feb 24 3:05 PM +0200"
        );
        assert_eq!(
            format_java(T, "EEEE MMMM D", 0).unwrap(),
            "Thursday February 60"
        );
        assert_eq!(format_java(T, "''yyyy''", 0).unwrap(), "'2024'");
        assert!(check_java_pattern("yyyy-qq").is_err());
        assert!(check_java_pattern("'open").is_err());
    }

    #[test]
    fn parses_java_patterns() {
        assert_eq!(
            parse_java("2024-02-29 13:05:09.042", "yyyy-MM-dd HH:mm:ss.SSS", 0),
            Some(T)
        );
        assert_eq!(
            parse_java(
                "2024-02-29T15:05:09.042+02:00",
                "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                0
            ),
            Some(T)
        );
        assert_eq!(
            parse_java("20240229130509", "yyyyMMddHHmmss", 0),
            Some(T - 42)
        );
        assert_eq!(
            parse_java("29/Feb/2024:13:05:09 +0000", "dd/MMM/yyyy:HH:mm:ss Z", 0),
            Some(T - 42)
        );
        assert_eq!(
            parse_java("02/29/2024 01:05 PM", "MM/dd/yyyy hh:mm a", 0),
            Some(T - 9042)
        );
        // The zone argument applies when the text has no offset.
        assert_eq!(
            parse_java(
                "2024-02-29 15:05:09.042",
                "yyyy-MM-dd HH:mm:ss.SSS",
                7_200_000
            ),
            Some(T)
        );
        assert_eq!(parse_java("2023-02-29", "yyyy-MM-dd", 0), None);
        assert_eq!(parse_java("2024-02-29x", "yyyy-MM-dd", 0), None);
        assert_eq!(parse_java("2024-13-01", "yyyy-MM-dd", 0), None);
        // Multi-byte text where a month name is expected must not split a character.
        assert_eq!(parse_java("éé", "MMM", 0), None);
        assert_eq!(parse_java("Ééé", "EEE", 0), None);
    }

    #[test]
    fn strftime_directives() {
        assert_eq!(
            format_strftime(T, "%Y-%m-%d %H:%M:%S.%L %z", 0).unwrap(),
            "2024-02-29 13:05:09.042 +0000"
        );
        assert_eq!(
            format_strftime(T, "%a %b %e %I%p %j %s %%", 0).unwrap(),
            "Thu Feb 29 01PM 060 1709211909 %"
        );
        assert!(check_strftime("%Q").is_err());
        assert!(check_strftime("100%").is_err());
    }

    #[test]
    fn zones() {
        assert_eq!(parse_zone("UTC"), Some(0));
        assert_eq!(parse_zone("+05:30"), Some(19_800_000));
        assert_eq!(parse_zone("GMT-0800"), Some(-28_800_000));
        assert_eq!(parse_zone("America/New_York"), None);
        assert_eq!(parse_zone("+25"), None);
    }
}
