//! A string that is a secret on the wire (pre-authorized code, transaction code, access
//! token): serialized as a plain string, but never shown by `Debug` and wiped on drop.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// A secret string. `Debug` prints `[redacted]`; the memory is zeroized when dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> SecretString {
        SecretString(value.into())
    }

    /// The secret value, for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_value_and_serde_is_transparent() {
        let secret = SecretString::new("493536");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"493536\"");
        let back: SecretString = serde_json::from_str("\"493536\"").unwrap();
        assert_eq!(back.expose(), "493536");
    }
}
