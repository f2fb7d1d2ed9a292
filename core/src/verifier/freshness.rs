//! How times and ages read in verdict messages and the desk tool's output: dates as dates
//! (RFC 9110 section 5.6.7 IMF-fixdate, by the `httpdate` crate), ages in the largest
//! units that matter.

use std::time::{Duration, UNIX_EPOCH};

/// A Unix time as an IMF-fixdate (`Mon, 30 Nov 2026 18:12:40 GMT`); a negative time reads
/// as `before 1970`.
pub fn format_date(unix_seconds: i64) -> String {
    match u64::try_from(unix_seconds) {
        Ok(secs) => httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs)),
        Err(_) => "before 1970".to_owned(),
    }
}

/// An age in seconds as people say it: `45 s ago`, `12 min ago`, `3 h 5 min ago`,
/// `2 days 4 h ago`.
pub fn format_age(seconds: i64) -> String {
    let s = seconds.max(0);
    let (days, hours, minutes) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if days > 0 {
        format!(
            "{days} day{} {hours} h ago",
            if days == 1 { "" } else { "s" }
        )
    } else if hours > 0 {
        format!("{hours} h {minutes} min ago")
    } else if minutes > 0 {
        format!("{minutes} min ago")
    } else {
        format!("{s} s ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages_read_as_people_say_them() {
        assert_eq!(format_date(1_795_421_105), "Mon, 23 Nov 2026 08:05:05 GMT");
        assert_eq!(format_date(-1), "before 1970");
        assert_eq!(format_age(45), "45 s ago");
        assert_eq!(format_age(12 * 60 + 3), "12 min ago");
        assert_eq!(format_age(3 * 3600 + 5 * 60), "3 h 5 min ago");
        assert_eq!(format_age(86_400 + 3600), "1 day 1 h ago");
        assert_eq!(format_age(2 * 86_400 + 4 * 3600), "2 days 4 h ago");
        assert_eq!(format_age(-5), "0 s ago");
    }
}
