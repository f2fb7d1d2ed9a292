//! The OpenID4VCI 1.0 client, sans-IO: parses offers and metadata, builds requests, checks responses.
//!
//! The wallet side runs the Pre-Authorized Code Flow (with `tx_code`, the Nonce Endpoint
//! and `jwt` key proofs) through [`IssuanceSession`]; it never performs I/O: it hands out
//! [`HttpRequest`]s and takes [`HttpResponse`]s, so a phone's own HTTP stack, a CLI or a
//! test can drive it. The request and response bodies ([`TokenRequest`],
//! [`CredentialRequest`], ...), the offer type and [`verify_proof_jwt`] are shared with
//! giayto's issuer, so both sides speak the same bytes.
//!
//! URLs must use `https`; plain `http` is accepted only for loopback hosts (`localhost`,
//! `127.0.0.0/8`, `[::1]`), for tests and local development.

pub mod dpop;
pub mod error;
pub mod http;
pub mod inbox;
pub mod messages;
pub mod metadata;
pub mod offer;
pub mod proof;
pub mod secret;
pub mod session;
pub mod urls;

pub use dpop::{
    DPOP_HEADER, DPOP_JWT_TYP, DPOP_TOKEN_TYPE, DpopClaims, DpopError, VerifiedDpop,
    access_token_hash, build_dpop_proof, build_dpop_proof_with_jti, new_jti, verify_dpop_proof,
};
pub use error::{Endpoint, IssuerErrorCode, Oid4vciError};
pub use http::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Method};
pub use messages::{
    AuthorizationDetail, CredentialRequest, CredentialResponse, DeferredCredentialRequest,
    ErrorResponse, IssuedCredential, NonceResponse, OPENID_CREDENTIAL, Proofs, REFRESH_TOKEN_GRANT,
    TokenRequest, TokenResponse,
};
pub use metadata::{
    AlgorithmIdentifier, AuthorizationServerMetadata, BatchCredentialIssuance,
    CredentialConfiguration, CredentialDisplay, CredentialIssuerMetadata, CredentialMetadata,
    Image, IssuerDisplay, ProofTypeMetadata, RequestEncryption, ResponseEncryption,
};
pub use offer::{
    AuthorizationCodeGrant, CREDENTIAL_OFFER_SCHEME, CredentialOffer, Grants, MAX_OFFER_URI_BYTES,
    OfferSource, PRE_AUTHORIZED_CODE_GRANT, PreAuthorizedCodeGrant, TxCodeInputMode, TxCodeSpec,
    fetch_offer_request, offer_by_reference_uri, on_offer, parse_offer_uri,
};
pub use proof::{
    MAX_PROOF_CLOCK_SKEW_SECS, PROOF_JWT_TYP, ProofClaims, ProofError, build_proof_jwt,
    verify_proof_jwt,
};
pub use secret::SecretString;
pub use session::{
    CredentialOutcome, FORMAT_SD_JWT_VC, IssuanceSession, ReceivedCredential, TokenStep,
};
pub use urls::{
    AUTHORIZATION_SERVER_WELL_KNOWN, CREDENTIAL_ISSUER_WELL_KNOWN,
    authorization_server_metadata_url, credential_issuer_metadata_url, parse_identifier,
    parse_secure_url,
};
