//! One module per subcommand.

pub mod demo;
pub mod issue;
pub mod keygen;
pub mod present;
pub mod publish;
pub mod qr;
pub mod respond;
pub mod verifier;
pub mod verify;
pub mod wallet;
