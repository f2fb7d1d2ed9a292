//! giayto-core: everything a phone or a verifier needs, pure Rust, synchronous and free of I/O
//! runtimes: JOSE on ring, SD-JWT and SD-JWT VC, the document catalogue, the trust list,
//! Token Status Lists, the offline verifier, the encrypted wallet vault, the QR codec and the
//! sans-IO OpenID4VCI client and OpenID4VP wallet.
//!
//! Data flows one way: issuer signs an SD-JWT VC ([`sd_jwt_vc`]) -> the wallet keeps it in
//! its [`vault`] -> presents chosen disclosures with a key-binding JWT ([`sd_jwt`]) -> packed
//! as a QR ([`qr`]) -> the [`verifier`] checks it against the [`trust_list`] and cached
//! [`status_list`]s.

pub mod broken_pipe;
pub mod catalogue;
pub mod http_problem;
pub mod jose;
pub mod limits;
pub mod local_file;
pub mod oid4vci;
pub mod oid4vp;
pub mod qr;
pub mod sd_jwt;
pub mod sd_jwt_vc;
pub mod status_list;
pub mod trust_list;
pub mod vault;
pub mod verifier;
pub mod wallet;
