//! Civil dates and age predicates: a strict `YYYY-MM-DD` parser with a real calendar check,
//! the age in completed years, and the `age_equal_or_over` claim issued with every document
//! that carries a birth date, so a verifier can check an age without learning the birth date.

use std::fmt;

use serde_json::{Map, Value};

use super::schema::{ClaimKind, ClaimSpec};

/// A day of the proleptic Gregorian calendar, years 1 to 9999.
///
/// Ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CivilDate {
    /// The date, or `None` when it does not exist (month 13, 30 February, 29 February of
    /// a common year, year 0 or after 9999).
    pub const fn new(year: u16, month: u8, day: u8) -> Option<CivilDate> {
        if year == 0
            || year > 9999
            || month == 0
            || month > 12
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(CivilDate { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD` (ten ASCII characters, zero-padded, no sign, no time part)
    /// and checks the date exists.
    pub fn parse(text: &str) -> Option<CivilDate> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u16> {
            b[range].iter().try_fold(0u16, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0'))
            })
        };
        let year = number(0..4)?;
        let month = u8::try_from(number(5..7)?).ok()?;
        let day = u8::try_from(number(8..10)?).ok()?;
        CivilDate::new(year, month, day)
    }

    /// The year, 1 to 9999.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1 to 31.
    pub const fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Whether `year` has a 29 February (Gregorian rule).
pub const fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Number of days in `month` (1 to 12) of `year`; 0 for a month out of range.
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Age in completed years on `today` of someone born on `birth`, or `None` if `birth` is
/// after `today`.
///
/// A year is completed on the anniversary of the birth day. Someone born on 29 February
/// completes a year on 28 February in common years: Vietnamese civil law (Civil Code 2015,
/// on periods counted in years) ends a period on the last day of the month when that month
/// has no corresponding day, and 28 February is the last day of February in a common year.
pub fn age_on(birth: CivilDate, today: CivilDate) -> Option<u16> {
    if today < birth {
        return None;
    }
    let anniversary_day = birth.day.min(days_in_month(today.year, birth.month));
    let before_anniversary = (today.month, today.day) < (birth.month, anniversary_day);
    Some(today.year - birth.year - u16::from(before_anniversary))
}

/// The ages for which an `age_equal_or_over` predicate is issued, and why:
/// - 14: a citizen must hold a căn cước from 14 (Law on Identity 2023); first criminal
///   liability and own consent for some contracts.
/// - 16: mopeds under 50 cm³ may be ridden (Road Traffic Order and Safety Law 2024); work,
///   full criminal liability.
/// - 18: adulthood: alcohol and tobacco sales, voting, contracts, licence classes A1 to C1.
/// - 21: licence classes C and BE (Road Traffic Order and Safety Law 2024).
/// - 60: người cao tuổi, the elderly (Law on the Elderly 2009): fares and fee reductions.
///
/// A fixed set, so that which predicates a credential carries says nothing about the holder.
pub const AGE_THRESHOLDS: [u16; 5] = [14, 16, 18, 21, 60];

/// Name of the computed age predicate claim.
pub const AGE_CLAIM: &str = "age_equal_or_over";

/// Name of the claim the predicates are computed from.
pub const BIRTH_DATE_CLAIM: &str = "birth_date";

/// The `age_equal_or_over` claim: always visible object whose members (one per entry of
/// [`AGE_THRESHOLDS`]) are each their own Disclosure, so a holder can show `18: true` alone.
pub const AGE_EQUAL_OR_OVER: ClaimSpec = ClaimSpec::new(
    AGE_CLAIM,
    "Xác nhận đủ tuổi",
    "Age equal or over",
    ClaimKind::Object(&[
        ClaimSpec::new(
            "14",
            "Đủ 14 tuổi trở lên",
            "Aged 14 or over",
            ClaimKind::Boolean,
        ),
        ClaimSpec::new(
            "16",
            "Đủ 16 tuổi trở lên",
            "Aged 16 or over",
            ClaimKind::Boolean,
        ),
        ClaimSpec::new(
            "18",
            "Đủ 18 tuổi trở lên",
            "Aged 18 or over",
            ClaimKind::Boolean,
        ),
        ClaimSpec::new(
            "21",
            "Đủ 21 tuổi trở lên",
            "Aged 21 or over",
            ClaimKind::Boolean,
        ),
        ClaimSpec::new(
            "60",
            "Đủ 60 tuổi trở lên",
            "Aged 60 or over",
            ClaimKind::Boolean,
        ),
    ]),
)
// The object itself is a disclosure (its thresholds are recursive disclosures inside it), so
// its five digests stay out of the signed payload: every presentation that does not show an
// age is 4 digests (about 190 QR characters) smaller.
.computed();

/// The `age_equal_or_over` object for someone born on `birth`, on `today`: one boolean per
/// threshold, keyed by the threshold in decimal. `None` if `birth` is after `today`.
pub fn age_predicates(birth: CivilDate, today: CivilDate) -> Option<Map<String, Value>> {
    let age = age_on(birth, today)?;
    Some(
        AGE_THRESHOLDS
            .iter()
            .map(|threshold| (threshold.to_string(), Value::Bool(age >= *threshold)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> CivilDate {
        CivilDate::parse(text).unwrap()
    }

    #[test]
    fn parses_real_dates_only() {
        assert_eq!(CivilDate::parse("2024-02-29"), CivilDate::new(2024, 2, 29));
        assert_eq!(d("0001-01-01").to_string(), "0001-01-01");
        assert_eq!(d("9999-12-31").to_string(), "9999-12-31");
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2024-02-30",
            "2024-04-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "0000-01-01",
            "2024-1-01",
            "2024-01-1",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00:00Z",
            " 2024-01-01",
            "+202-01-01",
            "2024-0a-01",
            "２０２４-01-01",
            "",
        ] {
            assert_eq!(CivilDate::parse(bad), None, "{bad}");
        }
        assert!(CivilDate::parse("2000-02-29").is_some());
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(is_leap_year(2024));
        assert!(is_leap_year(2000));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2023));
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2024, 13), 0);
    }

    #[test]
    fn age_increments_on_the_birthday() {
        let birth = d("2006-07-15");
        assert_eq!(age_on(birth, d("2024-07-14")), Some(17));
        assert_eq!(age_on(birth, d("2024-07-15")), Some(18));
        assert_eq!(age_on(birth, d("2024-07-16")), Some(18));
        assert_eq!(age_on(birth, d("2024-12-31")), Some(18));
        assert_eq!(age_on(birth, d("2025-01-01")), Some(18));
        assert_eq!(age_on(birth, d("2006-07-15")), Some(0));
        assert_eq!(age_on(birth, d("2006-07-14")), None);
        // Month before, same day; month after, earlier day.
        assert_eq!(age_on(birth, d("2024-06-15")), Some(17));
        assert_eq!(age_on(birth, d("2024-08-01")), Some(18));
    }

    #[test]
    fn february_29_births_age_on_february_28_in_common_years() {
        let birth = d("2008-02-29");
        assert_eq!(age_on(birth, d("2026-02-27")), Some(17));
        assert_eq!(age_on(birth, d("2026-02-28")), Some(18));
        assert_eq!(age_on(birth, d("2026-03-01")), Some(18));
        // In a leap year the birthday itself exists.
        assert_eq!(age_on(birth, d("2028-02-28")), Some(19));
        assert_eq!(age_on(birth, d("2028-02-29")), Some(20));
        assert_eq!(age_on(birth, d("2009-02-28")), Some(1));
        // Day 28 February births are unaffected by leap years.
        let birth = d("2008-02-28");
        assert_eq!(age_on(birth, d("2028-02-27")), Some(19));
        assert_eq!(age_on(birth, d("2028-02-28")), Some(20));
        // 31 December and 1 January births.
        assert_eq!(age_on(d("2000-12-31"), d("2018-12-30")), Some(17));
        assert_eq!(age_on(d("2000-12-31"), d("2018-12-31")), Some(18));
        assert_eq!(age_on(d("2000-01-01"), d("2017-12-31")), Some(17));
        assert_eq!(age_on(d("2000-01-01"), d("2018-01-01")), Some(18));
    }

    #[test]
    fn predicates_flip_exactly_on_the_threshold_birthday() {
        let birth = d("2006-07-15");
        let before = age_predicates(birth, d("2024-07-14")).unwrap();
        let on = age_predicates(birth, d("2024-07-15")).unwrap();
        assert_eq!(before["16"], Value::Bool(true));
        assert_eq!(before["18"], Value::Bool(false));
        assert_eq!(on["18"], Value::Bool(true));
        assert_eq!(on["21"], Value::Bool(false));
        assert_eq!(
            on.keys().collect::<Vec<_>>(),
            ["14", "16", "18", "21", "60"]
        );
        assert_eq!(age_predicates(birth, d("2006-07-14")), None);
    }

    #[test]
    fn the_age_claim_has_one_member_per_threshold() {
        let ClaimKind::Object(members) = AGE_EQUAL_OR_OVER.kind else {
            panic!("age_equal_or_over is an object");
        };
        let names: Vec<&str> = members.iter().map(|m| m.name).collect();
        let thresholds: Vec<String> = AGE_THRESHOLDS.iter().map(u16::to_string).collect();
        assert_eq!(names, thresholds);
    }
}
