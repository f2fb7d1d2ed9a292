//! Bounds of the time values the issuer API and the configuration accept, written down in
//! docs/ISSUER_API.md: a credential's lifetime per document type, a document's
//! `valid_until`, and an offer's lifetime (never beyond the document's). All values are Unix
//! seconds or durations in seconds.

use super::{DomainError, DomainResult};

/// A year of 365.25 days, seconds.
pub const YEAR_SECS: i64 = 31_557_600;
/// A day, seconds.
pub const DAY_SECS: i64 = 86_400;

/// Longest lifetime (`exp` - `iat`) of a credential of the document type `vct`. These are
/// giayto's policy (no standard sets them): no longer than the paper document usually stays
/// unchanged, shorter where the holder's data goes stale sooner. Unknown types get the
/// shortest bound.
///
/// | type | bound | why |
/// |---|---|---|
/// | `can_cuoc` | 20 years | the card is renewed at set ages; the longest interval is under 20 years |
/// | `driving_licence` | 10 years | the longest term of a time-limited licence class |
/// | `vehicle_registration` | 10 years | no expiry on paper; owners and plates change |
/// | `health_book` | 10 years | a record that grows; reissued with its updates |
/// | `health_insurance_card` | 5 years | cards follow contribution periods |
/// | `judicial_record` | 1 year | a certificate speaks of the record on its issue date |
pub fn max_lifetime_secs(vct: &str) -> i64 {
    let id = giayto_core::catalogue::by_vct(vct).map(|t| t.id);
    match id {
        Some("can_cuoc") => 20 * YEAR_SECS,
        Some("driving_licence" | "vehicle_registration" | "health_book") => 10 * YEAR_SECS,
        Some("health_insurance_card") => 5 * YEAR_SECS,
        _ => YEAR_SECS,
    }
}

/// The longest bound of [`max_lifetime_secs`] over all types (for the configuration).
pub const MAX_ANY_LIFETIME_SECS: i64 = 20 * YEAR_SECS;

/// Checks a requested `valid_until` of a document of type `vct`: after `now`, and at most
/// [`max_lifetime_secs`] after it.
pub fn check_valid_until(vct: &str, valid_until: i64, now: i64) -> DomainResult<()> {
    let max = max_lifetime_secs(vct);
    if valid_until <= now {
        return Err(DomainError::Invalid {
            field: "valid_until".into(),
            reason: "in the past".into(),
        });
    }
    if valid_until - now > max {
        return Err(DomainError::Invalid {
            field: "valid_until".into(),
            reason: format!(
                "at most {} days ahead for this document type",
                max / DAY_SECS
            ),
        });
    }
    Ok(())
}

/// `valid_until` of a document published without one: `default_ttl` from `now`, never
/// beyond its type's bound.
pub fn default_valid_until(vct: &str, default_ttl: i64, now: i64) -> i64 {
    now.saturating_add(default_ttl.min(max_lifetime_secs(vct)))
}

/// Expiry of an offer made at `now`: `offer_ttl` later, but never after the document
/// itself expires (an offer must not outlive what it offers).
pub fn offer_expiry(offer_ttl: i64, valid_until: i64, now: i64) -> i64 {
    now.saturating_add(offer_ttl).min(valid_until)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CC: &str = "https://giayto.gov.vn/vct/can_cuoc";
    const JR: &str = "https://giayto.gov.vn/vct/judicial_record";

    #[test]
    fn valid_until_is_in_the_future_and_within_the_type_bound() {
        assert!(check_valid_until(CC, 99, 100).is_err());
        assert!(check_valid_until(CC, 100, 100).is_err());
        assert!(check_valid_until(CC, 101, 100).is_ok());
        assert!(check_valid_until(CC, 100 + 20 * YEAR_SECS, 100).is_ok());
        assert!(check_valid_until(CC, 101 + 20 * YEAR_SECS, 100).is_err());
        assert!(check_valid_until(JR, 101 + YEAR_SECS, 100).is_err());
        assert!(check_valid_until(CC, i64::MAX, 100).is_err());
        assert_eq!(default_valid_until(JR, 10 * YEAR_SECS, 0), YEAR_SECS);
        assert_eq!(offer_expiry(3600, 1000, 0), 1000);
        assert_eq!(offer_expiry(3600, 1_000_000, 0), 3600);
    }
}
