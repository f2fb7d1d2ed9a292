//! The vault key: 32 secret bytes for AES-256-GCM, handed in by the platform key store,
//! zeroized on drop and never printed.

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::VaultError;

/// Length of a [`VaultKey`] in bytes (AES-256).
pub const VAULT_KEY_LEN: usize = 32;

/// The AES-256-GCM key that encrypts a vault.
///
/// The platform owns it (Android Keystore, iOS Keychain or a test key store) and hands it
/// in when the vault is opened. The bytes are wiped from memory when the value is dropped,
/// and `Debug` prints no key material.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VaultKey([u8; VAULT_KEY_LEN]);

impl VaultKey {
    /// Wraps 32 key bytes provided by the platform.
    pub fn from_bytes(bytes: [u8; VAULT_KEY_LEN]) -> VaultKey {
        VaultKey(bytes)
    }

    /// Draws a fresh key from the operating system's CSPRNG (ring `SystemRandom`).
    ///
    /// The caller must store it (see [`VaultKey::as_bytes`]) in the platform key store:
    /// a vault cannot be opened without the key that wrote it.
    pub fn generate() -> Result<VaultKey, VaultError> {
        let mut bytes = [0u8; VAULT_KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| VaultError::RandomUnavailable)?;
        Ok(VaultKey(bytes))
    }

    /// The raw key bytes, for handing the key to the platform key store. Treat as secret.
    pub fn as_bytes(&self) -> &[u8; VAULT_KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_key_bytes() {
        let key = VaultKey::from_bytes([0xAB; VAULT_KEY_LEN]);
        let printed = format!("{key:?}");
        assert_eq!(printed, "VaultKey(<redacted>)");
    }

    #[test]
    fn generated_keys_differ() {
        let a = VaultKey::generate().unwrap();
        let b = VaultKey::generate().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
    }
}
