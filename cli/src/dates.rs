//! Dates for people: a Unix time from a token shown as a date and time in the reader's time
//! zone, in Vietnamese (`31/12/2027 23:59`) and English (`31 Dec 2027 23:59`) with the UTC
//! offset; machine output (`--json`) keeps the numbers.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// `unix` (seconds since 1970-01-01T00:00:00Z) as `31/12/2027 23:59 / 31 Dec 2027 23:59
/// (UTC+07:00)` in the system time zone (`TZ`, else `/etc/localtime`, else UTC). A value
/// outside what a calendar can show is printed as the number with its unit.
pub fn date_time(unix: i64) -> String {
    date_time_in(unix, &TimeZone::system())
}

/// [`date_time`] in the time zone `tz`.
pub fn date_time_in(unix: i64, tz: &TimeZone) -> String {
    let Ok(ts) = Timestamp::from_second(unix) else {
        return format!("{unix} (Unix time)");
    };
    let zoned = ts.to_zoned(tz.clone());
    format!(
        "{} / {} (UTC{})",
        zoned.strftime("%d/%m/%Y %H:%M"),
        zoned.strftime("%-d %b %Y %H:%M"),
        zoned.strftime("%:z")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_in_both_languages_with_their_offset() {
        let hanoi = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        // 2027-12-31T16:59:00Z is 23:59 in Hà Nội.
        assert_eq!(
            date_time_in(1_830_272_340, &hanoi),
            "31/12/2027 23:59 / 31 Dec 2027 23:59 (UTC+07:00)"
        );
        assert_eq!(
            date_time_in(0, &TimeZone::UTC),
            "01/01/1970 00:00 / 1 Jan 1970 00:00 (UTC+00:00)"
        );
        assert_eq!(
            date_time_in(i64::MAX, &TimeZone::UTC),
            "9223372036854775807 (Unix time)"
        );
    }
}
