//! The QR codec: a lossless compact form of an SD-JWT presentation in base45, QR images and challenges.
