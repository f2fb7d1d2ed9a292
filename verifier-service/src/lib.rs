//! giayto's verifier service: what a hospital, a bank or a ward office runs to check
//! documents online. A desk page shows an OpenID4VP 1.0 request as a QR code, the
//! citizen's wallet answers over the network, and the page shows the verdict in
//! Vietnamese and English; it also verifies offline giayto QR codes typed by a USB barcode
//! scanner. Built on giayto-core's [`giayto_core::verifier::VerifierDevice`] (trust list,
//! status lists, replay cache), which it keeps fresh in the background.
//!
//! Profile (OpenID4VP 1.0 + HAIP 1.0): Client Identifier Prefix `x509_hash` with a signed
//! request object (JAR, ES256, `x5c` without the anchor) fetched by `request_uri`; DCQL
//! queries for `dc+sd-jwt`; responses by `direct_post.jwt`, encrypted with ECDH-ES (P-256)
//! and A128GCM or A256GCM to a key made for each request.

pub mod certs;
pub mod config;
pub mod desk;
pub mod http;
pub mod identity;
pub mod listener;
pub mod query;
pub mod response;
pub mod result;
pub mod service;
pub mod store;
pub mod sync;

/// `text` cut to 64 characters for messages (untrusted input never fills an error).
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
