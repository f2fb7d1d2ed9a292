//! SD-JWT (RFC 9901): issuance, presentation, key binding and verification.
