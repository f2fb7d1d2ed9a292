//! Guardianships (issue 14): the police record that a citizen is a child's guardian until
//! the child's 14th birthday (Decree 59/2022 article 11) or an earlier end date. While it is
//! live the child's documents are in the guardian's account inbox and are issued to the
//! guardian's keys with a `representation` claim naming the guardian
//! ([`giayto_core::sd_jwt_vc::REPRESENTATION_CLAIM`]), their `exp` at the end of the
//! guardianship, so the guardian's copies stop verifying by themselves then; ending it early
//! revokes them. Afterwards the documents go to the child's own account when the child
//! activates one.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use utoipa::ToSchema;

use super::accounts::may_manage_accounts;
use super::agencies::Agency;
use super::status_lists::{self, REVOKED};
use super::{DomainError, DomainResult, Services, ids, now};
use crate::secrets;

/// The age at which a child uses an account of its own (Decree 59/2022 article 11).
pub const OWN_ACCOUNT_AGE: i16 = 14;
/// Vietnam's UTC offset, hours: a birthday starts at local midnight.
const VIETNAM_UTC_OFFSET_HOURS: i8 = 7;

/// A guardianship to record.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardianshipRequest {
    /// The guardian's personal identification number (12 digits).
    pub guardian_citizen_id: String,
    /// The child's personal identification number (12 digits).
    pub child_citizen_id: String,
    /// The child's date of birth, `YYYY-MM-DD`: the guardianship ends at the start of the
    /// 14th birthday (Vietnam time).
    pub child_birth_date: String,
    /// An earlier end (Unix seconds), if the guardianship ends before that.
    #[serde(default)]
    pub ends_at: Option<i64>,
}

/// A recorded guardianship.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct GuardianshipView {
    /// Its id (for `end`).
    pub id: String,
    /// The guardian.
    pub guardian_citizen_id: String,
    /// The child.
    pub child_citizen_id: String,
    /// When it ends, Unix seconds.
    pub ends_at: i64,
    /// When it was ended early, Unix seconds.
    pub ended_at: Option<i64>,
    /// Credentials revoked by this call.
    pub revoked_credentials: u64,
}

/// The start of the 14th birthday of a child born on `birth_date` (`YYYY-MM-DD`), Vietnam
/// time, in Unix seconds (a 29 February birthday falls on 28 February).
pub fn fourteenth_birthday(birth_date: &str) -> DomainResult<i64> {
    let invalid = |reason: &str| DomainError::Invalid {
        field: "child_birth_date".into(),
        reason: reason.into(),
    };
    let date: jiff::civil::Date = birth_date
        .parse()
        .map_err(|_| invalid("a date YYYY-MM-DD"))?;
    let birthday = date
        .checked_add(jiff::Span::new().years(OWN_ACCOUNT_AGE))
        .map_err(|_| invalid("out of range"))?;
    let offset = jiff::tz::Offset::constant(VIETNAM_UTC_OFFSET_HOURS);
    let start = birthday
        .to_datetime(jiff::civil::Time::midnight())
        .to_zoned(jiff::tz::TimeZone::fixed(offset))
        .map_err(|_| invalid("out of range"))?;
    Ok(start.timestamp().as_second())
}

/// Records a guardianship (the police: an agency that issues the ID card). It ends at the
/// child's 14th birthday or `ends_at`, whichever is first, which must be ahead.
pub async fn record(
    services: &Services,
    agency: &Agency,
    req: &GuardianshipRequest,
) -> DomainResult<GuardianshipView> {
    if !may_manage_accounts(agency) {
        return Err(DomainError::Forbidden(format!(
            "agency {} does not issue the ID card, so it may not record guardianships",
            agency.id
        )));
    }
    ids::citizen_id(&req.guardian_citizen_id).map_err(|_| DomainError::Invalid {
        field: "guardian_citizen_id".into(),
        reason: "a personal identification number is 12 digits".into(),
    })?;
    ids::citizen_id(&req.child_citizen_id).map_err(|_| DomainError::Invalid {
        field: "child_citizen_id".into(),
        reason: "a personal identification number is 12 digits".into(),
    })?;
    if req.guardian_citizen_id == req.child_citizen_id {
        return Err(DomainError::Invalid {
            field: "child_citizen_id".into(),
            reason: "a citizen is not their own guardian".into(),
        });
    }
    let t = now();
    let birthday = fourteenth_birthday(&req.child_birth_date)?;
    let ends_at = req.ends_at.map_or(birthday, |e| e.min(birthday));
    if ends_at <= t {
        return Err(DomainError::Invalid {
            field: "ends_at".into(),
            reason: "the guardianship would already have ended (the child is 14 or the end date has passed)".into(),
        });
    }
    let id = secrets::random_id()?;
    sqlx::query(
        "INSERT INTO guardianships (id, guardian_citizen_id, child_citizen_id, ends_at, recorded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&req.guardian_citizen_id)
    .bind(&req.child_citizen_id)
    .bind(ends_at)
    .bind(&agency.id)
    .bind(t)
    .execute(services.db.writer())
    .await?;
    Ok(GuardianshipView {
        id,
        guardian_citizen_id: req.guardian_citizen_id.clone(),
        child_citizen_id: req.child_citizen_id.clone(),
        ends_at,
        ended_at: None,
        revoked_credentials: 0,
    })
}

/// Ends a guardianship now: the child's documents leave the guardian's inbox and every
/// credential issued under it is revoked, in one transaction.
pub async fn end(services: &Services, agency: &Agency, id: &str) -> DomainResult<GuardianshipView> {
    if !may_manage_accounts(agency) {
        return Err(DomainError::Forbidden(format!(
            "agency {} does not issue the ID card, so it may not end guardianships",
            agency.id
        )));
    }
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::NotFound("guardianship"));
    }
    let t = now();
    let mut tx = services.db.begin().await?;
    let row = sqlx::query(
        "UPDATE guardianships SET ended_at = COALESCE(ended_at, $1) WHERE id = $2 \
         RETURNING guardian_citizen_id, child_citizen_id, ends_at, ended_at",
    )
    .bind(t)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("guardianship"))?;
    let revoked =
        status_lists::set_status_of(&mut tx, status_lists::Holder::Guardianship(id), REVOKED)
            .await?;
    tx.commit().await?;
    Ok(GuardianshipView {
        id: id.to_owned(),
        guardian_citizen_id: row.try_get("guardian_citizen_id")?,
        child_citizen_id: row.try_get("child_citizen_id")?,
        ends_at: row.try_get("ends_at")?,
        ended_at: row.try_get("ended_at")?,
        revoked_credentials: revoked,
    })
}

/// A live guardianship of `guardian` over `child` at `t`: its id and end.
pub async fn live(
    services: &Services,
    guardian: &str,
    child: &str,
    t: i64,
) -> DomainResult<Option<(String, i64)>> {
    let row = sqlx::query(
        "SELECT id, ends_at FROM guardianships WHERE guardian_citizen_id = $1 AND child_citizen_id = $2 \
         AND ended_at IS NULL AND ends_at > $3 ORDER BY ends_at DESC, id LIMIT 1",
    )
    .bind(guardian)
    .bind(child)
    .bind(t)
    .fetch_optional(services.db.pool())
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("ends_at")?)))
        .transpose()
}

/// The children `guardian` holds documents for at `t`.
pub async fn wards(services: &Services, guardian: &str, t: i64) -> DomainResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT child_citizen_id FROM guardianships WHERE guardian_citizen_id = $1 \
         AND ended_at IS NULL AND ends_at > $2",
    )
    .bind(guardian)
    .bind(t)
    .fetch_all(services.db.pool())
    .await?)
}

/// The `representation` claim of a credential issued to `guardian` for a child's document
/// until `ends_at`: who holds it (the guardian's number, and name when the guardian's ID
/// card is published), on what basis, until when.
pub async fn representation(
    services: &Services,
    guardian: &str,
    ends_at: i64,
) -> DomainResult<Value> {
    let vct = giayto_core::catalogue::by_id(super::accounts::ID_CARD_TYPE).map(|t| t.vct);
    let claims: Option<String> = sqlx::query_scalar(
        "SELECT claims FROM documents WHERE citizen_id = $1 AND vct = $2 AND state = 'valid' \
         ORDER BY updated_at DESC, id LIMIT 1",
    )
    .bind(guardian)
    .bind(vct.unwrap_or_default())
    .fetch_optional(services.db.pool())
    .await?;
    let full_name = claims
        .and_then(|c| serde_json::from_str::<Value>(&c).ok())
        .and_then(|c| c.get("full_name").cloned());
    let mut representative = json!({ "personal_id": guardian });
    if let Some(name) = full_name {
        representative["full_name"] = name;
    }
    Ok(json!({
        "type": "guardian",
        "representative": representative,
        "legal_basis": "Nghị định 59/2022/NĐ-CP, Điều 11 / Decree 59/2022, article 11",
        "valid_until": ends_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fourteenth_birthday_starts_at_midnight_in_vietnam() {
        // 2012-03-05 + 14 years = 2026-03-05 00:00 +07:00 = 2026-03-04 17:00 UTC.
        assert_eq!(fourteenth_birthday("2012-03-05").unwrap(), 1_772_643_600);
        // Born on 29 February: the birthday is 28 February in a common year.
        assert_eq!(
            fourteenth_birthday("2012-02-29").unwrap(),
            fourteenth_birthday("2012-02-28").unwrap()
        );
        assert!(fourteenth_birthday("2012-13-01").is_err());
        assert!(fourteenth_birthday("yesterday").is_err());
    }
}
