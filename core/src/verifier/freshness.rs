//! How times and ages read in verdict messages, error messages and the desk tool's output
//! (shared with the phones through the bindings): dates as dates in Vietnamese and English,
//! in UTC (the core reads no time-zone database and does no I/O: a front end that knows the
//! reader's zone formats the numeric fields itself), ages in words in both languages, in
//! the largest units that matter.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A Unix time (seconds since 1970-01-01T00:00:00Z) as a date and time in UTC, Vietnamese
/// then English: `30/11/2026 18:12:40 / 30 Nov 2026 18:12:40 (UTC)`. A time outside what a
/// calendar can show (before the year -9999 or after 9999) reads as the number with its
/// unit.
pub fn format_date(unix_seconds: i64) -> String {
    let Ok(ts) = Timestamp::from_second(unix_seconds) else {
        return format!("{unix_seconds} (Unix time)");
    };
    let utc = ts.to_zoned(TimeZone::UTC);
    format!(
        "{} / {} (UTC)",
        utc.strftime("%d/%m/%Y %H:%M:%S"),
        utc.strftime("%-d %b %Y %H:%M:%S")
    )
}

/// An age in seconds in words, in Vietnamese then English, in the two largest units that
/// matter: `45 giây trước / 45 seconds ago`, `12 phút trước / 12 minutes ago`,
/// `3 giờ 5 phút trước / 3 hours 5 minutes ago`, `2 ngày 4 giờ trước / 2 days 4 hours ago`.
/// A negative age (a clock behind) reads as zero seconds.
pub fn format_age(seconds: i64) -> String {
    let s = seconds.max(0);
    let (days, hours, minutes) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let (vi, en) = if days > 0 {
        (
            format!("{days} ngày {hours} giờ"),
            format!("{} {}", count(days, "day"), count(hours, "hour")),
        )
    } else if hours > 0 {
        (
            format!("{hours} giờ {minutes} phút"),
            format!("{} {}", count(hours, "hour"), count(minutes, "minute")),
        )
    } else if minutes > 0 {
        (format!("{minutes} phút"), count(minutes, "minute"))
    } else {
        (format!("{s} giây"), count(s, "second"))
    };
    format!("{vi} trước / {en} ago")
}

/// `n` English `unit`s, singular for one.
fn count(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages_read_as_people_say_them() {
        assert_eq!(
            format_date(1_795_421_105),
            "23/11/2026 08:05:05 / 23 Nov 2026 08:05:05 (UTC)"
        );
        assert_eq!(
            format_date(-1),
            "31/12/1969 23:59:59 / 31 Dec 1969 23:59:59 (UTC)"
        );
        assert_eq!(format_date(i64::MAX), "9223372036854775807 (Unix time)");
        assert_eq!(format_age(45), "45 giây trước / 45 seconds ago");
        assert_eq!(format_age(1), "1 giây trước / 1 second ago");
        assert_eq!(format_age(12 * 60 + 3), "12 phút trước / 12 minutes ago");
        assert_eq!(
            format_age(3 * 3600 + 5 * 60),
            "3 giờ 5 phút trước / 3 hours 5 minutes ago"
        );
        assert_eq!(
            format_age(3600 + 60),
            "1 giờ 1 phút trước / 1 hour 1 minute ago"
        );
        assert_eq!(
            format_age(86_400 + 3600),
            "1 ngày 1 giờ trước / 1 day 1 hour ago"
        );
        assert_eq!(
            format_age(2 * 86_400 + 4 * 3600),
            "2 ngày 4 giờ trước / 2 days 4 hours ago"
        );
        assert_eq!(format_age(-5), "0 giây trước / 0 seconds ago");
    }
}
