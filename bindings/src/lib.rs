//! giayto-bindings: the thin UniFFI layer that gives Kotlin (Android), Swift (iOS) and
//! Python the giayto core: a `Wallet`, a `Verifier`, QR helpers and the document catalogue.
//!
//! Everything here wraps `giayto-core`; nothing is re-implemented. The phone keeps its own
//! secure hardware and network stack: holder keys come in through the foreign
//! [`KeyStore`]/[`SigningKey`] traits and HTTP through [`HttpClient`]. Every fallible call
//! returns [`GiaytoError`], and a foreign callback that throws becomes one of its variants,
//! never a crash.

uniffi::setup_scaffolding!();

mod catalogue;
mod error;
mod qr;

pub use catalogue::{DocumentTypeInfo, PresetInfo, document_types};
pub use error::GiaytoError;
pub use qr::{decode_qr_image, render_qr_png, render_qr_terminal};
