//! The QR codec: a lossless compact form of an SD-JWT presentation in base45 ([`compact`]),
//! QR images ([`image`]), the verifier's challenge for two-way presentation ([`challenge`]),
//! the printable paper form, and telling scanned QR texts apart ([`classify`]).

pub mod challenge;
pub mod compact;
mod dictionary;
mod error;
pub mod image;
mod payload;
mod point;
mod size;
pub mod text;

pub use challenge::{Challenge, KeyBindingTarget, OFFLINE_AUDIENCE};
pub use compact::{Format, pack, pack_format, unpack};
pub use error::{Part, QrError};
pub use image::{EcLevel, decode_image, qr_version, render_png, render_svg, render_terminal};
pub use payload::{QrPayload, classify};
pub use size::{SizeReport, size_report};
