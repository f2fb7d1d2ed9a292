//! NumericDate (RFC 7519 section 2): the one reader of every JWT date giayto acts on
//! (issuer-signed JWT `iat`/`nbf`/`exp`, KB-JWT `iat`, Status List and trust list tokens,
//! OpenID4VCI key proofs).
//!
//! RFC 7519 section 2 defines a NumericDate as "a JSON numeric value representing the number
//! of seconds from 1970-01-01T00:00:00Z UTC ... non-integer values can be represented", so
//! `1795000000.5` is as valid as `1795000000`. giayto compares whole Unix seconds, so a
//! fractional value is floored to the second it falls in (what a clock showing whole
//! seconds reads at that instant). For `exp` this is the safe direction: a document expires
//! at most one second early, never late; for `nbf`/`iat` the difference is under a second,
//! far inside the verifier's clock skew.
//!
//! Refused, each with its own [`NumericDateError`]: a value that is not a JSON number (a
//! string such as `"1795000000"` or `"NaN"`, `null`, `true`), a negative value (no giayto
//! document predates 1970; RFC 7519 does not forbid it, but a negative date in a credential
//! or proof is a bug or an attack), a non-finite value, and anything after
//! [`MAX_NUMERIC_DATE`] (9999-12-31T23:59:59Z, the last second a four-digit year can show;
//! it also keeps every later `saturating_add` of a clock skew far from `i64` overflow).

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The latest NumericDate accepted: 9999-12-31T23:59:59Z, in Unix seconds.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// Why a JWT date claim was refused.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum NumericDateError {
    /// The value is not a JSON number (RFC 7519 section 2: "A JSON numeric value").
    #[error("is not a JSON number (RFC 7519 NumericDate)")]
    NotANumber,
    /// The value is below zero (before 1970-01-01T00:00:00Z).
    #[error("is negative (before 1970)")]
    Negative,
    /// The value is not a finite number.
    #[error("is not a finite number")]
    NotFinite,
    /// The value is after [`MAX_NUMERIC_DATE`].
    #[error("is after 9999-12-31T23:59:59Z")]
    OutOfRange,
}

/// Reads a NumericDate from a JSON value: Unix seconds in `0..=MAX_NUMERIC_DATE`, fractions
/// floored. See the module documentation for what is refused and why.
pub fn numeric_date(value: &Value) -> Result<i64, NumericDateError> {
    let Value::Number(number) = value else {
        return Err(NumericDateError::NotANumber);
    };
    if let Some(seconds) = number.as_i64() {
        return check_range(seconds);
    }
    if number.as_u64().is_some() {
        return Err(NumericDateError::OutOfRange);
    }
    let Some(seconds) = number.as_f64() else {
        return Err(NumericDateError::NotANumber);
    };
    if !seconds.is_finite() {
        return Err(NumericDateError::NotFinite);
    }
    if seconds < 0.0 {
        return Err(NumericDateError::Negative);
    }
    let floored = seconds.floor();
    // The bound check before the cast keeps the conversion exact.
    if floored > MAX_NUMERIC_DATE as f64 {
        return Err(NumericDateError::OutOfRange);
    }
    check_range(floored as i64)
}

fn check_range(seconds: i64) -> Result<i64, NumericDateError> {
    if seconds < 0 {
        Err(NumericDateError::Negative)
    } else if seconds > MAX_NUMERIC_DATE {
        Err(NumericDateError::OutOfRange)
    } else {
        Ok(seconds)
    }
}

/// The NumericDate claim `name` of `claims`: `Ok(None)` when absent, the error when present
/// but not a valid NumericDate (see [`numeric_date`]).
pub fn numeric_date_claim(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<i64>, NumericDateError> {
    claims.get(name).map(numeric_date).transpose()
}

/// Serde `deserialize_with` for a required NumericDate field (see [`numeric_date`]).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let value = Value::deserialize(d)?;
    numeric_date(&value).map_err(|e| serde::de::Error::custom(format!("NumericDate {e}")))
}

/// Serde `deserialize_with` for an optional NumericDate field (use with `#[serde(default)]`).
pub fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(value) => numeric_date(&value)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("NumericDate {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_and_fractions() {
        assert_eq!(numeric_date(&json!(1_795_000_000)), Ok(1_795_000_000));
        assert_eq!(numeric_date(&json!(1_795_000_000.5)), Ok(1_795_000_000));
        assert_eq!(numeric_date(&json!(1_795_000_000.999)), Ok(1_795_000_000));
        assert_eq!(numeric_date(&json!(0)), Ok(0));
        assert_eq!(numeric_date(&json!(0.25)), Ok(0));
        assert_eq!(numeric_date(&json!(MAX_NUMERIC_DATE)), Ok(MAX_NUMERIC_DATE));
        let parsed: Value = serde_json::from_str("1.795e9").unwrap();
        assert_eq!(numeric_date(&parsed), Ok(1_795_000_000));
    }

    #[test]
    fn refusals() {
        for not_number in [json!("1795000000"), json!("NaN"), json!(null), json!(true)] {
            assert_eq!(numeric_date(&not_number), Err(NumericDateError::NotANumber));
        }
        assert_eq!(numeric_date(&json!(-1)), Err(NumericDateError::Negative));
        assert_eq!(numeric_date(&json!(-0.5)), Err(NumericDateError::Negative));
        assert_eq!(
            numeric_date(&json!(MAX_NUMERIC_DATE + 1)),
            Err(NumericDateError::OutOfRange)
        );
        assert_eq!(
            numeric_date(&json!(u64::MAX)),
            Err(NumericDateError::OutOfRange)
        );
        assert_eq!(
            numeric_date(&json!(1e300)),
            Err(NumericDateError::OutOfRange)
        );
        // serde_json refuses non-finite literals itself; a non-finite f64 never parses.
        assert!(serde_json::from_str::<Value>("1e400").is_err());
    }
}
