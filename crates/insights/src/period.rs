//! Time periods (`5m`, `1h`, `2mo`) and the calendar arithmetic behind
//! `bin`, `datefloor` and `dateceil`.

/// The unit of a period literal. Months, quarters and years are calendar
/// units, the rest are fixed lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl PeriodUnit {
    /// Every spelling Logs Insights documents for period units, singular or
    /// with a plural `s`, matched case-sensitively (`M` is not a unit).
    pub fn from_suffix(s: &str) -> Option<PeriodUnit> {
        let short = match s {
            "ms" => Some(PeriodUnit::Millisecond),
            "s" => Some(PeriodUnit::Second),
            "m" => Some(PeriodUnit::Minute),
            "h" => Some(PeriodUnit::Hour),
            "d" => Some(PeriodUnit::Day),
            "w" => Some(PeriodUnit::Week),
            "mo" => Some(PeriodUnit::Month),
            "q" => Some(PeriodUnit::Quarter),
            "y" => Some(PeriodUnit::Year),
            _ => None,
        };
        if short.is_some() {
            return short;
        }
        Some(match s.strip_suffix('s').unwrap_or(s) {
            "msec" | "millisecond" => PeriodUnit::Millisecond,
            "sec" | "second" => PeriodUnit::Second,
            "min" | "minute" => PeriodUnit::Minute,
            "hr" | "hour" => PeriodUnit::Hour,
            "day" => PeriodUnit::Day,
            "week" => PeriodUnit::Week,
            "mon" | "month" => PeriodUnit::Month,
            "qtr" | "quarter" => PeriodUnit::Quarter,
            "yr" | "year" => PeriodUnit::Year,
            _ => return None,
        })
    }

    fn fixed_ms(self) -> Option<i64> {
        Some(match self {
            PeriodUnit::Millisecond => 1,
            PeriodUnit::Second => 1_000,
            PeriodUnit::Minute => 60_000,
            PeriodUnit::Hour => 3_600_000,
            PeriodUnit::Day => 86_400_000,
            PeriodUnit::Week => 7 * 86_400_000,
            _ => return None,
        })
    }
}

/// A period literal such as `5m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub amount: i64,
    pub unit: PeriodUnit,
}

impl Period {
    /// Start of the period that contains `ms`. Fixed-length periods are
    /// aligned to the Unix epoch; calendar periods count months from
    /// January 1970 so that `bin(1q)` starts quarters in Jan/Apr/Jul/Oct.
    pub fn floor(&self, ms: i64) -> i64 {
        let amount = self.amount.max(1);
        if let Some(unit_ms) = self.unit.fixed_ms() {
            let width = unit_ms.saturating_mul(amount);
            return ms.div_euclid(width) * width;
        }
        let months_per = match self.unit {
            PeriodUnit::Month => 1,
            PeriodUnit::Quarter => 3,
            _ => 12,
        } * amount;
        let (y, m, _) = civil_from_days(ms.div_euclid(86_400_000));
        let month_index = (y - 1970) * 12 + (m as i64 - 1);
        let start = month_index.div_euclid(months_per) * months_per;
        month_start_ms(start)
    }

    /// End of the period that contains `ms`: the start of the next one,
    /// unless `ms` is already on a boundary.
    pub fn ceil(&self, ms: i64) -> i64 {
        let start = self.floor(ms);
        if start == ms {
            return ms;
        }
        let amount = self.amount.max(1);
        if let Some(unit_ms) = self.unit.fixed_ms() {
            return start + unit_ms.saturating_mul(amount);
        }
        let months_per = match self.unit {
            PeriodUnit::Month => 1,
            PeriodUnit::Quarter => 3,
            _ => 12,
        } * amount;
        let (y, m, _) = civil_from_days(start.div_euclid(86_400_000));
        month_start_ms((y - 1970) * 12 + (m as i64 - 1) + months_per)
    }
}

fn month_start_ms(month_index: i64) -> i64 {
    let y = 1970 + month_index.div_euclid(12);
    let m = (month_index.rem_euclid(12) + 1) as u32;
    days_from_civil(y, m, 1) * 86_400_000
}

// The formats crate owns the civil-date arithmetic; one copy of Hinnant's algorithm is enough.
pub use watchtrail_formats::timestamp::{civil_from_days, days_from_civil};

/// `yyyy-MM-dd HH:mm:ss.SSS` in UTC, the way Logs Insights renders
/// timestamps in query results.
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let h = in_day / 3_600_000;
    let min = in_day / 60_000 % 60;
    let s = in_day / 1000 % 60;
    let milli = in_day % 1000;
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}.{milli:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 60, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00.000");
        assert_eq!(
            format_timestamp(1_700_000_000_123),
            "2023-11-14 22:13:20.123"
        );
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999");
    }

    #[test]
    fn calendar_periods() {
        // 2023-11-14 22:13:20.123
        let t = 1_700_000_000_123;
        let q = Period {
            amount: 1,
            unit: PeriodUnit::Quarter,
        };
        assert_eq!(format_timestamp(q.floor(t)), "2023-10-01 00:00:00.000");
        assert_eq!(format_timestamp(q.ceil(t)), "2024-01-01 00:00:00.000");
        let y = Period {
            amount: 1,
            unit: PeriodUnit::Year,
        };
        assert_eq!(format_timestamp(y.floor(t)), "2023-01-01 00:00:00.000");
        let mo = Period {
            amount: 1,
            unit: PeriodUnit::Month,
        };
        assert_eq!(format_timestamp(mo.ceil(t)), "2023-12-01 00:00:00.000");
        let five = Period {
            amount: 5,
            unit: PeriodUnit::Minute,
        };
        assert_eq!(format_timestamp(five.floor(t)), "2023-11-14 22:10:00.000");
        assert_eq!(five.ceil(five.floor(t)), five.floor(t));
    }

    #[test]
    fn unit_spellings() {
        for (s, u) in [
            ("ms", PeriodUnit::Millisecond),
            ("msecs", PeriodUnit::Millisecond),
            ("milliseconds", PeriodUnit::Millisecond),
            ("s", PeriodUnit::Second),
            ("secs", PeriodUnit::Second),
            ("m", PeriodUnit::Minute),
            ("mins", PeriodUnit::Minute),
            ("hr", PeriodUnit::Hour),
            ("hours", PeriodUnit::Hour),
            ("days", PeriodUnit::Day),
            ("w", PeriodUnit::Week),
            ("mo", PeriodUnit::Month),
            ("mon", PeriodUnit::Month),
            ("months", PeriodUnit::Month),
            ("qtr", PeriodUnit::Quarter),
            ("quarters", PeriodUnit::Quarter),
            ("yr", PeriodUnit::Year),
            ("years", PeriodUnit::Year),
        ] {
            assert_eq!(PeriodUnit::from_suffix(s), Some(u), "{s}");
        }
        assert_eq!(PeriodUnit::from_suffix("x"), None);
        assert_eq!(PeriodUnit::from_suffix("M"), None);
        assert_eq!(PeriodUnit::from_suffix("ss"), None);
    }
}
