//! How times and ages read in verdict messages and the desk tool's output: dates as dates
//! (RFC 9110 section 5.6.7 IMF-fixdate, by the `httpdate` crate), ages in words in
//! Vietnamese and English, in the largest units that matter.

use std::time::{Duration, UNIX_EPOCH};

/// A Unix time as an IMF-fixdate (`Mon, 30 Nov 2026 18:12:40 GMT`); a negative time reads
/// as `before 1970`.
pub fn format_date(unix_seconds: i64) -> String {
    match u64::try_from(unix_seconds) {
        Ok(secs) => httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs)),
        Err(_) => "before 1970".to_owned(),
    }
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
        assert_eq!(format_date(1_795_421_105), "Mon, 23 Nov 2026 08:05:05 GMT");
        assert_eq!(format_date(-1), "before 1970");
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
