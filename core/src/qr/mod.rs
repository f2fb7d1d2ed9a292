//! The QR codec: a lossless compact form of an SD-JWT presentation in base45, QR images and challenges.

pub mod compact;
mod dictionary;
mod error;
pub mod text;

pub use compact::{pack, unpack};
pub use error::{Part, QrError};
pub mod image;
mod size;
pub use size::{SizeReport, size_report};
