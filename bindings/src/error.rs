//! The one error type that crosses the FFI: a few variants an app can `when`/`switch` on,
//! each with a readable reason. Core errors map onto them here and nowhere else.

use giayto_core::{
    catalogue::SchemaError, jose::JoseError, limits::LimitError, oid4vci::Oid4vciError,
    qr::QrError, sd_jwt::SdJwtError, status_list::StatusListError, trust_list::TrustListError,
    vault::VaultError, verifier::DeviceError,
};

/// Why a giayto call failed. The `reason` is meant for a log or a developer screen: it
/// never contains a private key, a transaction code or an access token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum GiaytoError {
    /// The input cannot be read: a QR text or image, an offer URI, a token, a key or JSON
    /// that is malformed, of an unknown kind, or too large.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong with it.
        reason: String,
    },
    /// A cryptographic operation failed: a signature that does not verify, a key that
    /// does not fit its algorithm.
    #[error("cryptographic failure: {reason}")]
    Crypto {
        /// What failed.
        reason: String,
    },
    /// The app's `HttpClient` failed, or a server answered something the protocol does
    /// not allow there.
    #[error("network: {reason}")]
    Network {
        /// What failed.
        reason: String,
    },
    /// The issuer refused the request, e.g. a wrong transaction code or an expired offer.
    #[error("the issuer refused: {reason}")]
    IssuerRefused {
        /// The issuer's error code and description.
        reason: String,
    },
    /// The issuer needs something this wallet does not do.
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What is missing.
        reason: String,
    },
    /// The app's `KeyStore` or `SigningKey` failed (key missing, user cancelled, hardware error).
    #[error("key store: {reason}")]
    KeyStore {
        /// What the key store reported.
        reason: String,
    },
    /// The vault could not be read or written: I/O, a wrong vault key or a damaged file.
    #[error("storage: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// No document, document type, preset or claim of that name.
    #[error("not found: {reason}")]
    NotFound {
        /// What was looked for.
        reason: String,
    },
    /// A callback implemented by the app threw something it did not declare.
    #[error("unexpected callback failure: {reason}")]
    Callback {
        /// The foreign exception's message.
        reason: String,
    },
}

impl GiaytoError {
    pub(crate) fn invalid(reason: impl std::fmt::Display) -> Self {
        GiaytoError::InvalidInput {
            reason: reason.to_string(),
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for GiaytoError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        GiaytoError::Callback { reason: e.reason }
    }
}

impl From<JoseError> for GiaytoError {
    fn from(e: JoseError) -> Self {
        let reason = e.to_string();
        match e {
            JoseError::BadSignature | JoseError::KeyAlgorithmMismatch(_) => {
                GiaytoError::Crypto { reason }
            }
            JoseError::Signing(_) => GiaytoError::KeyStore { reason },
            _ => GiaytoError::InvalidInput { reason },
        }
    }
}

impl From<SdJwtError> for GiaytoError {
    fn from(e: SdJwtError) -> Self {
        match e {
            SdJwtError::Jose { source, .. } => source.into(),
            other => GiaytoError::invalid(other),
        }
    }
}

impl From<QrError> for GiaytoError {
    fn from(e: QrError) -> Self {
        GiaytoError::invalid(e)
    }
}

impl From<SchemaError> for GiaytoError {
    fn from(e: SchemaError) -> Self {
        GiaytoError::invalid(e)
    }
}

impl From<LimitError> for GiaytoError {
    fn from(e: LimitError) -> Self {
        GiaytoError::invalid(e)
    }
}

impl From<Oid4vciError> for GiaytoError {
    fn from(e: Oid4vciError) -> Self {
        let reason = e.to_string();
        match e {
            Oid4vciError::Jose(j) => j.into(),
            Oid4vciError::Issuer { .. } => GiaytoError::IssuerRefused { reason },
            Oid4vciError::Unsupported(_) => GiaytoError::Unsupported { reason },
            Oid4vciError::ResponseTooLarge { .. }
            | Oid4vciError::UnexpectedStatus { .. }
            | Oid4vciError::InvalidResponse { .. }
            | Oid4vciError::InvalidMetadata { .. }
            | Oid4vciError::IssuerMismatch { .. }
            | Oid4vciError::UnknownConfiguration(_) => GiaytoError::Network { reason },
            Oid4vciError::InvalidOfferUri(_)
            | Oid4vciError::InvalidOffer(_)
            | Oid4vciError::InvalidUrl { .. }
            | Oid4vciError::InsecureUrl(_)
            | Oid4vciError::TxCodeRequired
            | Oid4vciError::InvalidTxCode(_)
            | Oid4vciError::OutOfOrder(_) => GiaytoError::InvalidInput { reason },
        }
    }
}

impl From<TrustListError> for GiaytoError {
    fn from(e: TrustListError) -> Self {
        match e {
            TrustListError::Jose(j) => j.into(),
            other => GiaytoError::invalid(other),
        }
    }
}

impl From<StatusListError> for GiaytoError {
    fn from(e: StatusListError) -> Self {
        let reason = e.to_string();
        match e {
            StatusListError::Jose(j) => j.into(),
            StatusListError::BadSignature | StatusListError::UnknownKey { .. } => {
                GiaytoError::Crypto { reason }
            }
            _ => GiaytoError::InvalidInput { reason },
        }
    }
}

impl From<DeviceError> for GiaytoError {
    fn from(e: DeviceError) -> Self {
        let reason = e.to_string();
        match e {
            DeviceError::TrustList(t) => t.into(),
            DeviceError::StatusList(s) => s.into(),
            DeviceError::Jose(j) => j.into(),
            DeviceError::NotAnAnchor | DeviceError::UnknownStatusListSigner => {
                GiaytoError::Crypto { reason }
            }
            DeviceError::Anchor(_)
            | DeviceError::AmbiguousAnchor
            | DeviceError::NoTrustList
            | DeviceError::StatusListWithoutKid
            | DeviceError::Qr(_)
            | DeviceError::StatusListOlder(_)
            | DeviceError::ChallengeScanned
            | DeviceError::ReplayState(_) => GiaytoError::InvalidInput { reason },
            DeviceError::StatusCacheFull => GiaytoError::Storage { reason },
        }
    }
}

impl From<VaultError> for GiaytoError {
    fn from(e: VaultError) -> Self {
        GiaytoError::Storage {
            reason: e.to_string(),
        }
    }
}

impl From<giayto_core::oid4vp::Oid4vpError> for GiaytoError {
    fn from(e: giayto_core::oid4vp::Oid4vpError) -> Self {
        use giayto_core::oid4vp::Oid4vpError as E;
        let reason = e.to_string();
        match e {
            E::Url(u) => u.into(),
            E::Wallet(w) => w.into(),
            E::NoVerifierAnchors
            | E::UntrustedCertificate(_)
            | E::ClientIdHashMismatch
            | E::BadSignature
            | E::Encryption(_) => GiaytoError::Crypto { reason },
            E::Unsupported(_) | E::UnsupportedClientIdPrefix(_) => {
                GiaytoError::Unsupported { reason }
            }
            E::NoMatch(_) => GiaytoError::NotFound { reason },
            E::Http { .. } | E::TooLarge { .. } => GiaytoError::Network { reason },
            E::Invocation(_)
            | E::MalformedRequest(_)
            | E::WrongType(_)
            | E::WrongAlgorithm(_)
            | E::ClientIdMismatch
            | E::Expired { .. }
            | E::NotYetValid { .. }
            | E::WrongResponseMode(_)
            | E::InvalidQuery(_)
            | E::BeyondRegistration(_)
            | E::State(_) => GiaytoError::InvalidInput { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_failures_keep_their_message() {
        let e: GiaytoError = uniffi::UnexpectedUniFFICallbackError::new("boom").into();
        assert_eq!(
            e,
            GiaytoError::Callback {
                reason: "boom".into()
            }
        );
        assert_eq!(e.to_string(), "unexpected callback failure: boom");
    }

    #[test]
    fn core_errors_land_in_the_variant_an_app_acts_on() {
        assert!(matches!(
            GiaytoError::from(JoseError::BadSignature),
            GiaytoError::Crypto { .. }
        ));
        assert!(matches!(
            GiaytoError::from(JoseError::Signing("cancelled".into())),
            GiaytoError::KeyStore { .. }
        ));
        assert!(matches!(
            GiaytoError::from(Oid4vciError::TxCodeRequired),
            GiaytoError::InvalidInput { .. }
        ));
        assert!(matches!(
            GiaytoError::from(Oid4vciError::Jose(JoseError::BadSignature)),
            GiaytoError::Crypto { .. }
        ));
    }
}
