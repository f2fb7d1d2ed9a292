//! The verification result as the app shows it: flat records and enums made from core's
//! `Verdict`, with every name and label in Vietnamese and English.

use giayto_core::verifier::{ClaimView, Failure, HolderBinding, Names, StatusView, Verdict};
use serde_json::Value;

/// Whether the presentation came from the phone the document was issued to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum HolderBindingState {
    /// Proven by a key-binding signature of the holder's device key.
    Verified {
        /// Who the proof was made for (`giayto:offline` in one-way mode, else the
        /// verifier id of the challenge).
        audience: String,
        /// The nonce of the proof (the challenge's in two-way mode).
        nonce: String,
        /// When the phone made the proof, Unix seconds.
        created_at: i64,
    },
    /// Not bound to a device: a printed paper form. Check the holder's face and papers.
    NotBound,
    /// A key-binding proof was sent but failed its checks.
    Failed,
    /// Not checked: the presentation was refused before binding was looked at (unreadable,
    /// bad signature, untrusted issuer). Show nothing about binding.
    NotChecked,
}

/// Revocation state of the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CredentialStatus {
    /// Not revoked or suspended, per a fresh status list.
    Valid,
    /// Revoked by the issuer.
    Revoked,
    /// Suspended by the issuer.
    Suspended,
    /// Not revoked or suspended, but the cached status list is out of date.
    ValidStale,
    /// A status value giayto does not know.
    Unknown,
    /// The status list is not cached: load or refresh it.
    ListMissing,
    /// The credential carries no status reference.
    NotApplicable,
    /// Not checked, because the presentation failed earlier.
    NotChecked,
}

impl From<StatusView> for CredentialStatus {
    fn from(s: StatusView) -> Self {
        match s {
            StatusView::Valid => CredentialStatus::Valid,
            StatusView::Revoked => CredentialStatus::Revoked,
            StatusView::Suspended => CredentialStatus::Suspended,
            StatusView::ValidStale => CredentialStatus::ValidStale,
            StatusView::Unknown => CredentialStatus::Unknown,
            StatusView::ListMissing => CredentialStatus::ListMissing,
            StatusView::NotApplicable => CredentialStatus::NotApplicable,
            StatusView::NotChecked => CredentialStatus::NotChecked,
        }
    }
}

/// One claim, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LabelledClaim {
    /// Where it is in the document, e.g. `driving_privileges[0].class`.
    pub path: String,
    /// Vietnamese label, when the document type is in the catalogue.
    pub label_vi: Option<String>,
    /// English label, when the document type is in the catalogue.
    pub label_en: Option<String>,
    /// The value as text: a Unix time (`representation.valid_until`) as a date in
    /// Vietnamese and English (UTC), a boolean or a word enumeration value in both
    /// languages (`không / no`, `người giám hộ / guardian`, `nữ / female`), another string
    /// as it is, anything else as JSON.
    pub value: String,
    /// The value as JSON.
    pub value_json: String,
}

impl From<&ClaimView> for LabelledClaim {
    fn from(c: &ClaimView) -> Self {
        LabelledClaim {
            path: c.path.clone(),
            label_vi: c.label.as_ref().map(|n| n.vi.to_string()),
            label_en: c.label.as_ref().map(|n| n.en.to_string()),
            value: display_value(&c.path, &c.value),
            value_json: c.value.to_string(),
        }
    }
}

/// A reason a presentation is refused, or a warning.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerificationReason {
    /// A stable code for programs (`revoked`, `bad_signature`, `key_binding_stale`, ...).
    pub code: String,
    /// A readable explanation (English; its dates in Vietnamese and English, in UTC, and its
    /// ages in words in both: the numbers are in the result's typed fields).
    pub message: String,
}

impl From<&Failure> for VerificationReason {
    fn from(f: &Failure) -> Self {
        let code = match serde_json::to_value(f.code) {
            Ok(Value::String(code)) => code,
            _ => format!("{:?}", f.code),
        };
        VerificationReason {
            code,
            message: f.message.clone(),
        }
    }
}

/// Everything a verifier app shows after a scan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerificationResult {
    /// Accept or refuse: true only when there is no reason to refuse.
    pub valid: bool,
    /// Whether it was a printed paper form (no device binding) rather than a phone's QR.
    pub paper_form: bool,
    /// The document type (`vct`).
    pub vct: Option<String>,
    /// The catalogue id of the document type (`driving_licence`, ...).
    pub document_type_id: Option<String>,
    /// The document type's Vietnamese name.
    pub document_name_vi: Option<String>,
    /// The document type's English name.
    pub document_name_en: Option<String>,
    /// For a purpose credential (one preset's claims, issued for that situation), the
    /// preset it serves (`traffic_stop`); `None` for a full credential.
    pub purpose: Option<String>,
    /// The purpose's Vietnamese name (`Kiểm tra của cảnh sát giao thông`).
    pub purpose_name_vi: Option<String>,
    /// The purpose's English name (`Traffic stop`).
    pub purpose_name_en: Option<String>,
    /// The issuer identifier (`iss`).
    pub issuer_id: Option<String>,
    /// The issuer's Vietnamese name, from the trust list.
    pub issuer_name_vi: Option<String>,
    /// The issuer's English name, from the trust list.
    pub issuer_name_en: Option<String>,
    /// The claims shown, labelled, in document order.
    pub claims: Vec<LabelledClaim>,
    /// The same claims as one JSON object.
    pub claims_json: String,
    /// When the document was issued, Unix seconds.
    pub issued_at: Option<i64>,
    /// When the document expires, Unix seconds.
    pub expires_at: Option<i64>,
    /// Device binding.
    pub holder_binding: HolderBindingState,
    /// Revocation state.
    pub status: CredentialStatus,
    /// When the status list used was last confirmed current (downloaded, or a sync was
    /// told it had not changed), Unix seconds; `None` when no cached list was consulted.
    pub status_checked_at: Option<i64>,
    /// How old that status information is, seconds (`now - status_checked_at`): show it
    /// when the status is `VALID_STALE`.
    pub status_age_seconds: Option<i64>,
    /// When the issuer signed that state of the status list (its `iat`), Unix seconds.
    pub status_list_issued_at: Option<i64>,
    /// Every reason to refuse.
    pub errors: Vec<VerificationReason>,
    /// Things that do not refuse it but the officer should know.
    pub warnings: Vec<VerificationReason>,
}

impl VerificationResult {
    /// Flattens a verdict; `key_binding` says whether the policy asked for device binding.
    pub(crate) fn from_verdict(v: &Verdict, key_binding: bool) -> Self {
        let doc_name = v.document_type.as_ref().and_then(|d| d.name.as_ref());
        let issuer_name = v.issuer.as_ref().and_then(|i| i.name.as_ref());
        let purpose = v.document_type.as_ref().and_then(|d| d.purpose.as_ref());
        VerificationResult {
            valid: v.valid,
            paper_form: !key_binding,
            vct: v.document_type.as_ref().map(|d| d.vct.clone()),
            document_type_id: v.document_type.as_ref().and_then(|d| d.id.clone()),
            document_name_vi: doc_name.map(vi),
            document_name_en: doc_name.map(en),
            purpose: purpose.map(|p| p.preset.clone()),
            purpose_name_vi: purpose.map(|p| vi(&p.name)),
            purpose_name_en: purpose.map(|p| en(&p.name)),
            issuer_id: v.issuer.as_ref().map(|i| i.id.clone()),
            issuer_name_vi: issuer_name.map(vi),
            issuer_name_en: issuer_name.map(en),
            claims: v.claims.iter().map(LabelledClaim::from).collect(),
            claims_json: Value::Object(v.claims_json.clone()).to_string(),
            issued_at: v.validity.issued_at,
            expires_at: v.validity.expires_at,
            holder_binding: match &v.holder_binding {
                HolderBinding::Verified { aud, nonce, iat } => HolderBindingState::Verified {
                    audience: aud.clone(),
                    nonce: nonce.clone(),
                    created_at: *iat,
                },
                HolderBinding::NotBound => HolderBindingState::NotBound,
                HolderBinding::Failed => HolderBindingState::Failed,
                HolderBinding::NotChecked => HolderBindingState::NotChecked,
            },
            status: v.status.into(),
            status_checked_at: v.status_freshness.as_ref().map(|f| f.checked_at),
            status_age_seconds: v.status_freshness.as_ref().map(|f| f.age_seconds),
            status_list_issued_at: v.status_freshness.as_ref().map(|f| f.issued_at),
            errors: v.errors.iter().map(VerificationReason::from).collect(),
            warnings: v.warnings.iter().map(VerificationReason::from).collect(),
        }
    }
}

fn vi(n: &Names) -> String {
    n.vi.to_string()
}

fn en(n: &Names) -> String {
    n.en.to_string()
}

/// The value of the claim at `path` as a person reads it: a Unix time as a date in both
/// languages (UTC, [`giayto_core::verifier::format_date`]), a string as it is, anything
/// else as JSON.
pub(crate) fn display_value(path: &str, value: &Value) -> String {
    if giayto_core::catalogue::representation::is_unix_time(path)
        && let Some(unix) = value.as_i64()
    {
        return giayto_core::verifier::format_date(unix);
    }
    // Booleans and word enumerations (`guardian`, `female`) in both languages, core's names.
    if let Some(names) = giayto_core::catalogue::value_names(value) {
        return if names.vi == names.en {
            names.vi.to_owned()
        } else {
            format!("{} / {}", names.vi, names.en)
        };
    }
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::display_value;

    /// Issue 14's `representation.valid_until` is Unix seconds: the claim list shows a date
    /// in both languages, as the verdict messages do.
    #[test]
    fn a_representations_end_reads_as_a_date() {
        assert_eq!(
            display_value("representation.valid_until", &json!(1_796_054_869)),
            "30/11/2026 16:07:49 / 30 Nov 2026 16:07:49 (UTC)"
        );
        assert_eq!(display_value("vehicle.seats", &json!(7)), "7");
        assert_eq!(
            display_value("full_name", &json!("Lê Thị Hoa")),
            "Lê Thị Hoa"
        );
    }

    /// Enumerated values named as the CLI and the desk name them (core's names).
    #[test]
    fn enumerated_values_read_in_both_languages() {
        assert_eq!(
            display_value("representation.type", &json!("guardian")),
            "người giám hộ / guardian"
        );
        assert_eq!(display_value("sex", &json!("female")), "nữ / female");
        assert_eq!(display_value("age_over_18", &json!(true)), "có / yes");
        assert_eq!(display_value("class", &json!("B")), "B");
    }
}
