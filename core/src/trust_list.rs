//! The trust list: a JWT signed by the national trust anchor naming each issuer, its keys
//! and the document types it may issue.
//!
//! Format (giayto's own; no standard covers this yet): a compact JWS with header
//! `{"alg": ..., "typ": "trustlist+jwt", "kid": ...}` and payload
//! `{"iss": anchor id, "iat", "exp", "issuers": [{"id", "name": {"vi", "en"}, "jwks": {"keys": [...]}, "vcts": [...], "status_list_aggregation_endpoint"?}],
//! "verifier_anchors"?: [base64 DER certificate], "verifiers"?: [{"client_id", "name": {"vi", "en"}, "may_request": [{"vct", "claims": [[path]]}]}]}`.
//! The two verifier members (OpenID4VP, [`crate::oid4vp`]) are optional, so lists signed
//! before they existed still verify and read as naming no verifier.
//! A verifier pins the anchor's public key; the list is checked against that key only,
//! never a key named in the token. It refreshes the list when online and verifies
//! offline from the cached token; past `exp` the list is still used for a configurable
//! grace period (with a warning), and after that it is refused as expired.

use serde::{Deserialize, Serialize};

use crate::jose::jws::{self, CompactJws};
use crate::jose::{JoseError, Jwk, Jwks, Signer, typ_matches};
use crate::limits::MAX_TRUST_LIST_TOKEN_BYTES;

/// The JOSE `typ` of a trust list.
pub const TRUST_LIST_TYP: &str = "trustlist+jwt";

/// An issuer's name in Vietnamese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerName {
    /// Vietnamese.
    pub vi: String,
    /// English.
    pub en: String,
}

/// One issuer on the trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedIssuer {
    /// The issuer identifier: the `iss` of its credentials.
    pub id: String,
    /// Its names.
    pub name: IssuerName,
    /// Its public signing keys (old keys stay while credentials they signed are valid).
    pub jwks: Jwks,
    /// The document types (`vct`) it may issue.
    pub vcts: Vec<String>,
    /// Where its Status List Aggregation is (draft-ietf-oauth-status-list section "Issuer
    /// Metadata": an issuer MAY link it "within Issuer certificates or trust lists"), so a
    /// verifier that pins only the anchor can fetch every status list ahead of time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list_aggregation_endpoint: Option<String>,
}

/// The trust list's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustList {
    /// The trust anchor's identifier.
    pub iss: String,
    /// When the list was issued (NumericDate, RFC 7519 section 2; fractions floored).
    #[serde(deserialize_with = "crate::jose::numeric_date::deserialize")]
    pub iat: i64,
    /// When the list expires (NumericDate, RFC 7519 section 2; fractions floored).
    #[serde(deserialize_with = "crate::jose::numeric_date::deserialize")]
    pub exp: i64,
    /// The trusted issuers.
    pub issuers: Vec<TrustedIssuer>,
    /// The verifier registrars' CA certificates, base64 (standard, padded) DER: the trust
    /// anchors an OpenID4VP request's `x5c` chain must lead to (HAIP 1.0: the wallet
    /// validates the chain; the anchor is not sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifier_anchors: Vec<String>,
    /// The registered verifiers (relying parties) and what each may request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifiers: Vec<RegisteredVerifier>,
}

/// A verifier (relying party) registered to request documents, modelled on the ARF's
/// relying-party registration: who it is and what it may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredVerifier {
    /// Its OpenID4VP client identifier with prefix, `x509_hash:<base64url SHA-256 of the
    /// DER leaf certificate>` (OpenID4VP 1.0 section 5.9.3).
    pub client_id: String,
    /// Its names.
    pub name: IssuerName,
    /// The document types and claims it is registered to request.
    pub may_request: Vec<RegisteredRequest>,
}

/// One document type a registered verifier may request, and which of its claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredRequest {
    /// The document type (`vct`).
    pub vct: String,
    /// The claims, each a DCQL claims path pointer of strings (OpenID4VP 1.0 section 7;
    /// `null` for "every array element" and integers for one element are written as JSON
    /// `null` and numbers). A path allows the claim and everything below it.
    #[serde(default)]
    pub claims: Vec<Vec<serde_json::Value>>,
}

/// Whether a verified trust list is current or in its grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustListFreshness {
    /// Before `exp`.
    Current,
    /// Past `exp`, within the grace period.
    ExpiredWithinGrace {
        /// The list's `exp`.
        expired_at: i64,
    },
}

/// Why a trust list, or an issuer or key on it, is not acceptable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TrustListError {
    /// The token failed a JOSE check (algorithm, header, signature by the anchor).
    #[error("trust list: {0}")]
    Jose(#[from] JoseError),
    /// The token's `typ` is not `trustlist+jwt`.
    #[error("trust list has {}, expected trustlist+jwt", crate::jose::shown_typ(.0.as_deref()))]
    WrongType(Option<String>),
    /// The payload does not have the trust list's shape.
    #[error("trust list is malformed: {0}")]
    Malformed(String),
    /// The list expired beyond its grace period.
    #[error("trust list expired at {}", crate::verifier::format_date(*expired_at))]
    Expired {
        /// The list's `exp`.
        expired_at: i64,
    },
    /// The list claims to be issued in the future.
    #[error("trust list is issued in the future ({})", crate::verifier::format_date(*iat))]
    NotYetValid {
        /// The list's `iat`.
        iat: i64,
    },
    /// The issuer is not on the list.
    #[error("issuer {iss} is not on the trust list")]
    UnknownIssuer {
        /// The issuer.
        iss: String,
    },
    /// The signing key is not one of the issuer's keys.
    #[error("key {kid} is not a key of issuer {iss}")]
    UnknownKey {
        /// The issuer.
        iss: String,
        /// The key id.
        kid: String,
    },
    /// The issuer may not issue this document type.
    #[error("issuer {iss} is not authorised to issue {vct}")]
    NotAuthorisedForType {
        /// The issuer.
        iss: String,
        /// The document type.
        vct: String,
    },
}

/// Clock difference tolerated for the list's `iat`.
const IAT_SKEW_SECONDS: i64 = 300;

impl TrustList {
    /// Signs the list as a `trustlist+jwt` with the anchor's key.
    pub fn sign(&self, anchor: &dyn Signer) -> Result<String, TrustListError> {
        // The same shape rules as verification, so a private key can never be published.
        self.check_shape()?;
        let payload =
            serde_json::to_vec(self).map_err(|e| TrustListError::Malformed(e.to_string()))?;
        Ok(jws::sign_compact(
            jws::header_with_typ(TRUST_LIST_TYP),
            &payload,
            anchor,
        )?)
    }

    /// Verifies a trust list token against the pinned anchor key at `now`; a list past its
    /// `exp` is accepted for `grace_seconds` more (see [`VerifiedTrustList::freshness`]).
    /// The token is at most [`MAX_TRUST_LIST_TOKEN_BYTES`]; its `typ` is compared as a media
    /// type (RFC 7515 section 4.1.9, [`typ_matches`]); `iat` and `exp` are NumericDates.
    pub fn verify(
        token: &str,
        anchor: &Jwk,
        now: i64,
        grace_seconds: i64,
    ) -> Result<VerifiedTrustList, TrustListError> {
        let jws = CompactJws::parse_with_limit(token, MAX_TRUST_LIST_TOKEN_BYTES)?;
        if !typ_matches(jws.header().typ.as_deref(), TRUST_LIST_TYP) {
            return Err(TrustListError::WrongType(jws.header().typ.clone()));
        }
        jws.verify(anchor)?;
        let list: TrustList = jws
            .payload_json()
            .map_err(|e| TrustListError::Malformed(e.to_string()))?;
        list.check_shape()?;
        if list.iat > now.saturating_add(IAT_SKEW_SECONDS) {
            return Err(TrustListError::NotYetValid { iat: list.iat });
        }
        let verified = VerifiedTrustList {
            list,
            token: token.to_owned(),
        };
        verified.freshness(now, grace_seconds)?;
        Ok(verified)
    }

    fn check_shape(&self) -> Result<(), TrustListError> {
        let mut ids = std::collections::HashSet::new();
        for issuer in &self.issuers {
            if !ids.insert(issuer.id.as_str()) {
                return Err(TrustListError::Malformed(format!(
                    "issuer {} listed twice",
                    crate::jose::truncate(&issuer.id)
                )));
            }
            for key in &issuer.jwks.keys {
                if key.is_private() {
                    return Err(TrustListError::Malformed("a private key is listed".into()));
                }
            }
        }
        for anchor in &self.verifier_anchors {
            crate::jose::b64::decode_standard(anchor).map_err(|_| {
                TrustListError::Malformed("a verifier anchor is not base64 DER".into())
            })?;
        }
        let mut client_ids = std::collections::HashSet::new();
        for verifier in &self.verifiers {
            if !client_ids.insert(verifier.client_id.as_str()) {
                return Err(TrustListError::Malformed(format!(
                    "verifier {} listed twice",
                    crate::jose::truncate(&verifier.client_id)
                )));
            }
        }
        Ok(())
    }
}

/// A trust list whose signature by the anchor has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTrustList {
    list: TrustList,
    token: String,
}

impl VerifiedTrustList {
    /// The list's contents.
    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// The signed token, for caching.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The list's `exp`.
    pub fn expires_at(&self) -> i64 {
        self.list.exp
    }

    /// Whether the list is current or in its grace period at `now`; an error once the
    /// grace period is over.
    pub fn freshness(
        &self,
        now: i64,
        grace_seconds: i64,
    ) -> Result<TrustListFreshness, TrustListError> {
        let expired_at = self.list.exp;
        // RFC 7519 section 4.1.4: `exp` is the time "on or after which" the JWT must not be
        // accepted, so the list is current strictly before it.
        if now < expired_at {
            Ok(TrustListFreshness::Current)
        } else if now < expired_at.saturating_add(grace_seconds.max(0)) {
            Ok(TrustListFreshness::ExpiredWithinGrace { expired_at })
        } else {
            Err(TrustListError::Expired { expired_at })
        }
    }

    /// The issuer holding the key `kid` (an RFC 7638 thumbprint, unique across issuers), to
    /// tell who signed a token that carries no `iss`, such as a Status List Token.
    pub fn issuer_with_key(&self, kid: &str) -> Option<&TrustedIssuer> {
        self.list
            .issuers
            .iter()
            .find(|issuer| issuer.jwks.find(kid).is_some())
    }

    /// The registered verifier with this client identifier (compared exactly, prefix
    /// included, OpenID4VP 1.0 section 5.9.1).
    pub fn verifier(&self, client_id: &str) -> Option<&RegisteredVerifier> {
        self.list
            .verifiers
            .iter()
            .find(|v| v.client_id == client_id)
    }

    /// The verifier registrars' CA certificates as DER; an entry that is not base64 was
    /// refused when the list was verified.
    pub fn verifier_anchors_der(&self) -> Vec<Vec<u8>> {
        self.list
            .verifier_anchors
            .iter()
            .filter_map(|a| crate::jose::b64::decode_standard(a).ok())
            .collect()
    }

    /// The issuer with identifier `iss`.
    pub fn issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.list.issuers.iter().find(|i| i.id == iss)
    }

    /// The key `kid` of issuer `iss`, if that issuer may issue `vct`.
    pub fn authorise(&self, iss: &str, kid: &str, vct: &str) -> Result<&Jwk, TrustListError> {
        let issuer = self
            .issuer(iss)
            .ok_or_else(|| TrustListError::UnknownIssuer {
                iss: crate::jose::truncate(iss),
            })?;
        let key = issuer
            .jwks
            .find(kid)
            .ok_or_else(|| TrustListError::UnknownKey {
                iss: iss.to_owned(),
                kid: crate::jose::truncate(kid),
            })?;
        if !issuer.vcts.iter().any(|v| v == vct) {
            return Err(TrustListError::NotAuthorisedForType {
                iss: iss.to_owned(),
                vct: crate::jose::truncate(vct),
            });
        }
        Ok(key)
    }
}

#[cfg(test)]
mod date_message_tests {
    use super::TrustListError;

    /// Issue 16: the trust list's expiry in a message reads as a date, not Unix seconds.
    #[test]
    fn the_expiry_reads_as_a_date() {
        let message = TrustListError::Expired {
            expired_at: 1_827_590_809,
        }
        .to_string();
        assert_eq!(
            message,
            "trust list expired at 30/11/2027 16:06:49 / 30 Nov 2027 16:06:49 (UTC)"
        );
    }
}
