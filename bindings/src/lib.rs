//! giayto-bindings: the thin UniFFI layer that gives Kotlin (Android), Swift (iOS) and
//! Python the giayto core: a `Wallet`, a `Verifier`, QR helpers and the document catalogue.
//!
//! Everything here wraps `giayto-core`; nothing is re-implemented. The phone keeps its own
//! secure hardware and network stack: holder keys come in through the foreign
//! [`KeyStore`]/[`SigningKey`] traits and HTTP through [`HttpClient`]. Every fallible call
//! returns [`GiaytoError`], and a foreign callback that throws becomes one of its variants,
//! never a crash.
//!
//! Every call that waits for the network or the user is async (UniFFI async exports: Kotlin
//! `suspend`, Swift `async`, Python `async def`), and so are `HttpClient::send` and
//! `SigningKey::sign`; there is no Rust runtime: the app's executor drives each call, and
//! cancelling it drops the Rust future at the wait it is on. Long calls report through a
//! [`ProgressListener`]. Offline verification stays synchronous (one call per camera
//! frame). See bindings/README.md.

uniffi::setup_scaffolding!();

mod account;
#[cfg(test)]
mod account_tests;
mod catalogue;
mod error;
mod http;
mod keys;
mod presentation;
mod progress;
mod qr;
mod result;
mod verifier;
#[cfg(test)]
mod verifier_tests;
mod wallet;
#[cfg(test)]
mod wallet_tests;

pub use account::{
    DocumentStateChange, HistoryEvent, HistoryEventKind, PublishedDocument, SyncSummary,
    TransferOffer,
};
pub use catalogue::{DocumentTypeInfo, PresetInfo, document_types};
pub use error::GiaytoError;
pub use http::{HttpClient, HttpHeader, HttpRequest, HttpResponse};
pub use keys::{KeyStore, SigningKey, software_key_store};
pub use presentation::{
    PresentationConsent, PresentationOutcome, PresentationRequest, PresentationRequestInfo,
    PresentationWarning, SharedDocument,
};
pub use progress::{ProgressListener, ProgressReport, ProgressStage};
pub use qr::{decode_qr_image, render_qr_png, render_qr_terminal};
pub use result::{
    CredentialStatus, HolderBindingState, LabelledClaim, VerificationReason, VerificationResult,
};
pub use verifier::{SyncFailure, SyncResult, Verifier};
pub use wallet::{
    ClaimSelection, DocumentInfo, OfferSummary, PresentationMode, PresentationQr,
    PresentationSource, PurposeCount, PurposeFailure, PurposeFallback, RefillResult, Wallet,
};

/// The phone's clock, Unix seconds; a clock before 1970 reads as 0.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Drives a future that completes without waiting (the in-memory keys and fake clients of
/// the unit tests), with no runtime.
#[cfg(test)]
pub(crate) mod test_support {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    pub(crate) fn ready<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the future waited"),
        }
    }
}
