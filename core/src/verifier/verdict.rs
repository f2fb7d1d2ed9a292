//! The verdict: everything a person at a desk or a script needs to know about one
//! presentation, with each failure as a typed reason and a readable message.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

/// A name in Vietnamese and English: borrowed from the static catalogue when it comes from
/// there (no copy per verification), owned when it comes from data (a trust list's issuer
/// names, a stored credential's display). Serialises as `{"vi": "...", "en": "..."}` either
/// way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    /// Vietnamese.
    pub vi: Cow<'static, str>,
    /// English.
    pub en: Cow<'static, str>,
}

impl From<crate::catalogue::Label> for Names {
    fn from(label: crate::catalogue::Label) -> Names {
        Names {
            vi: Cow::Borrowed(label.vi),
            en: Cow::Borrowed(label.en),
        }
    }
}

/// The document type of a presentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentTypeView {
    /// The `vct`.
    pub vct: String,
    /// The catalogue id, when the type is in the catalogue.
    pub id: Option<String>,
    /// The type's name, when the type is in the catalogue.
    pub name: Option<Names>,
    /// The purpose a purpose credential serves (`traffic_stop`), `None` for a full
    /// credential or a type outside the catalogue.
    pub purpose: Option<PurposeView>,
}

/// The purpose of a purpose credential: the preset whose claims it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurposeView {
    /// The preset name (`traffic_stop`).
    pub preset: String,
    /// The preset's label (`Kiểm tra của cảnh sát giao thông` / `Traffic stop`).
    pub name: Names,
}

/// The issuer of a presentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerView {
    /// The `iss`.
    pub id: String,
    /// The issuer's names from the trust list.
    pub name: Option<Names>,
}

/// One disclosed (or always visible) claim, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimView {
    /// Where it is, e.g. `driving_privileges[0].class`.
    pub path: String,
    /// Its label, when the type is in the catalogue.
    pub label: Option<Names>,
    /// Its value.
    pub value: Value,
}

/// The validity period from the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Validity {
    /// `iat`.
    pub issued_at: Option<i64>,
    /// `nbf`.
    pub not_before: Option<i64>,
    /// `exp`.
    pub expires_at: Option<i64>,
}

/// Whether the presentation was proven to come from the phone the document was issued to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HolderBinding {
    /// A valid key-binding JWT signed by the `cnf` key.
    Verified {
        /// Its audience.
        aud: String,
        /// Its nonce.
        nonce: String,
        /// When the phone made it.
        iat: i64,
    },
    /// No key-binding JWT (a printed paper form, or a policy that does not ask for one):
    /// the presentation is not bound to a device.
    NotBound,
    /// A key-binding JWT was sent but failed its checks.
    Failed,
    /// Not checked: the presentation was refused before key binding could be looked at
    /// (unreadable input, bad issuer signature, untrusted issuer, ...). Nothing is known
    /// about binding, so nothing should be said about it.
    NotChecked,
}

/// The credential's revocation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusView {
    /// Not revoked or suspended, per a fresh list.
    Valid,
    /// Revoked.
    Revoked,
    /// Suspended.
    Suspended,
    /// Not revoked or suspended, but the list is past its `ttl`.
    ValidStale,
    /// A status value giayto does not know.
    Unknown,
    /// The status list is not in the cache.
    ListMissing,
    /// The credential has no status reference.
    NotApplicable,
    /// Not checked because the presentation failed earlier.
    NotChecked,
}

/// How old the status information a verdict used is: which list, when its issuer signed it,
/// and when the verifier last confirmed it current (downloaded it, or was told by a `304 Not
/// Modified` that it had not changed). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusFreshness {
    /// The status list's URI.
    pub list_uri: String,
    /// The token's `iat`: when the issuer signed this state of the list.
    pub issued_at: i64,
    /// When the verifier last confirmed the list current.
    pub checked_at: i64,
    /// `now - checked_at`, seconds (0 if the clock went back).
    pub age_seconds: i64,
    /// When it should be fetched again: `checked_at` + the token's `ttl` (bounded by the
    /// cache policy; draft "Validation Rules" step 4.d). Past it the status is stale.
    pub refresh_at: i64,
    /// The token's `exp`: past it the list gives no status (draft step 4.c).
    pub expires_at: Option<i64>,
}

/// Why a presentation failed, or what a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// The scanned QR code could not be read or unpacked into a presentation.
    QrUnreadable,
    /// Over the size limit.
    TooLarge,
    /// Not an SD-JWT, or broken JSON or base64.
    Malformed,
    /// `alg: none`, HMAC or another algorithm outside the allow-list.
    AlgorithmRefused,
    /// An unknown `crit` header or a key referenced by URL.
    HeaderRefused,
    /// The issuer-signed JWT does not have the profile's `typ`.
    WrongType,
    /// The issuer is not on the trust list (or no trusted key matches).
    UntrustedIssuer,
    /// The signing key is not one of the issuer's keys.
    UnknownKey,
    /// The issuer may not issue this document type.
    NotAuthorisedForType,
    /// The trust list expired beyond its grace period.
    TrustListExpired,
    /// The trust list expired but is within its grace period (warning).
    TrustListInGrace,
    /// The issuer signature does not verify.
    BadSignature,
    /// A disclosure is malformed.
    MalformedDisclosure,
    /// A disclosure is not referenced by any digest.
    UnreferencedDisclosure,
    /// A disclosure was sent twice.
    DuplicateDisclosure,
    /// A digest appears more than once.
    DuplicateDigest,
    /// A disclosure uses `_sd` or `...` as a claim name.
    ReservedClaimName,
    /// A disclosure would overwrite an existing claim.
    ClaimNameConflict,
    /// `_sd_alg` is not accepted.
    UnsupportedHashAlgorithm,
    /// An envelope claim (`iss`, `exp`, `cnf`, `status`, ...) came from a disclosure.
    ProtectedClaimDisclosed,
    /// An envelope claim is missing or invalid.
    InvalidEnvelope,
    /// The policy does not accept this document type.
    TypeNotAccepted,
    /// Past `exp`.
    Expired,
    /// Before `nbf`.
    NotYetValid,
    /// `iat` in the future.
    IssuedInFuture,
    /// Key binding required but absent.
    KeyBindingMissing,
    /// The credential has no holder key to check key binding against.
    NoHolderKey,
    /// The KB-JWT is malformed, mistyped, or not signed by the holder key.
    KeyBindingInvalid,
    /// The KB-JWT `sd_hash` does not match the presentation.
    KeyBindingHashMismatch,
    /// The KB-JWT is too old or from the future.
    KeyBindingStale,
    /// The KB-JWT nonce is not the challenge's.
    NonceMismatch,
    /// The KB-JWT audience is not this verifier.
    AudienceMismatch,
    /// The issuer-signed `aud` does not name this verifier (RFC 7519 section 4.1.3).
    IssuerAudienceMismatch,
    /// The KB-JWT was already presented to this verifier.
    Replayed,
    /// Revoked by the issuer.
    Revoked,
    /// Suspended by the issuer.
    Suspended,
    /// An unknown status value.
    StatusUnknown,
    /// The status list is not available.
    StatusListMissing,
    /// The status list is past its `ttl`.
    StatusListStale,
    /// The status list is past its `exp` (refused by default: see
    /// [`super::Policy::expired_status`]).
    StatusListExpired,
    /// The cached status list was not signed by the document's issuer (the message names
    /// the trusted issuer that signed it, if any).
    StatusListWrongSigner,
}

/// A failure or warning: its code, for programs, and a message, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What went wrong.
    pub code: FailureCode,
    /// A readable explanation.
    pub message: String,
}

impl Failure {
    pub(crate) fn new(code: FailureCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// The result of verifying one presentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Whether the presentation is accepted: no failures.
    pub valid: bool,
    /// The document type; `None` when the presentation was refused before the issuer's
    /// signature verified (nothing unverified is shown).
    pub document_type: Option<DocumentTypeView>,
    /// The issuer; set only once the issuer's signature verified, so `Some` also tells a
    /// caller that the presentation's signed contents (its status reference among them) may
    /// be acted on, for example to fetch the status list it names.
    pub issuer: Option<IssuerView>,
    /// The claims shown, with labels, in document order.
    pub claims: Vec<ClaimView>,
    /// The same claims as a JSON object, for scripts.
    pub claims_json: Map<String, Value>,
    /// The validity period.
    pub validity: Validity,
    /// Holder binding.
    pub holder_binding: HolderBinding,
    /// Revocation state.
    pub status: StatusView,
    /// How old the status information used is, when a cached status list was consulted.
    pub status_freshness: Option<StatusFreshness>,
    /// Every reason the presentation is refused.
    pub errors: Vec<Failure>,
    /// Things that do not refuse it under the policy but should be known.
    pub warnings: Vec<Failure>,
}

impl Verdict {
    pub(crate) fn empty() -> Verdict {
        Verdict {
            valid: false,
            document_type: None,
            issuer: None,
            claims: Vec::new(),
            claims_json: Map::new(),
            validity: Validity::default(),
            holder_binding: HolderBinding::NotChecked,
            status: StatusView::NotChecked,
            status_freshness: None,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The verdict on input that never became a presentation (an unreadable QR code, say):
    /// invalid, for `code` and `message`.
    pub fn refused(code: FailureCode, message: impl Into<String>) -> Verdict {
        let mut verdict = Verdict::empty();
        verdict.errors.push(Failure::new(code, message));
        verdict
    }

    /// Whether a failure with `code` was found.
    pub fn has_error(&self, code: FailureCode) -> bool {
        self.errors.iter().any(|f| f.code == code)
    }
}
