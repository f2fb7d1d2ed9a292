//! Secrets at rest and in transit: the master key file, key wrapping (AES-256-GCM), keyed
//! hashes of bearer secrets (HMAC-SHA256) and the random values the server hands out.
//!
//! Everything is derived from one 32-byte master key with HKDF-SHA256, one label per use
//! (wrapping, hashing, `c_nonce` MACs, offer token MACs), so a leaked derived key never reveals another.

use std::fmt;
use std::io::Write;
use std::path::Path;

use giayto_core::local_file::{self, LocalFileError};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, KeyType, Salt};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Length of the master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// Errors of the secrets layer. Messages never carry secret material.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The master key file could not be read or created.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The master key file exists but is not exactly 32 bytes.
    #[error("master key file {0} must hold exactly 32 bytes")]
    BadLength(String),
    /// The master key file is readable by group or others.
    #[error("master key file {0} must not be readable by group or others (chmod 600)")]
    TooOpen(String),
    /// The master key file is a FIFO, a device or a folder.
    #[error("master key file {0} is not a regular file")]
    NotRegular(String),
    /// The system random generator failed.
    #[error("random generator failed")]
    Random,
    /// A wrapped secret failed to authenticate (wrong master key or tampered data).
    #[error("wrapped secret does not decrypt under this master key")]
    Unwrap,
}

/// Keys derived from the master key. `Debug` shows nothing of them.
pub struct MasterKey {
    wrap: LessSafeKey,
    hash: hmac::Key,
    c_nonce: hmac::Key,
    offer_token: hmac::Key,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

struct Len(usize);
impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn derive(master: &[u8; MASTER_KEY_LEN], label: &[u8]) -> Result<Zeroizing<[u8; 32]>, SecretError> {
    let prk = Salt::new(HKDF_SHA256, b"giayto-server master key v1").extract(master);
    let info = [label];
    let okm = prk
        .expand(&info, Len(32))
        .map_err(|_| SecretError::Random)?;
    let mut out = Zeroizing::new([0u8; 32]);
    okm.fill(out.as_mut()).map_err(|_| SecretError::Random)?;
    Ok(out)
}

impl MasterKey {
    /// Builds the derived keys from 32 raw master-key bytes.
    pub fn from_bytes(master: &[u8; MASTER_KEY_LEN]) -> Result<Self, SecretError> {
        let wrap_bytes = derive(master, b"wrap")?;
        let hash_bytes = derive(master, b"hash")?;
        let c_nonce_bytes = derive(master, b"c-nonce")?;
        let offer_token_bytes = derive(master, b"offer-token")?;
        let unbound =
            UnboundKey::new(&AES_256_GCM, wrap_bytes.as_ref()).map_err(|_| SecretError::Random)?;
        Ok(Self {
            wrap: LessSafeKey::new(unbound),
            hash: hmac::Key::new(hmac::HMAC_SHA256, hash_bytes.as_ref()),
            c_nonce: hmac::Key::new(hmac::HMAC_SHA256, c_nonce_bytes.as_ref()),
            offer_token: hmac::Key::new(hmac::HMAC_SHA256, offer_token_bytes.as_ref()),
        })
    }

    /// Loads the master key file: a regular file (never a FIFO or a device), private (no
    /// access for group or others), of exactly [`MASTER_KEY_LEN`] bytes, of which at most
    /// one byte more is ever read. `Ok(None)` when nothing is at `path`.
    pub fn load(path: &Path) -> Result<Option<Self>, SecretError> {
        let shown = path.display().to_string();
        let bytes = match local_file::read_private(path, MASTER_KEY_LEN as u64) {
            Ok(bytes) => bytes,
            Err(LocalFileError::NotFound) => return Ok(None),
            Err(LocalFileError::TooLarge { .. }) => return Err(SecretError::BadLength(shown)),
            Err(LocalFileError::TooOpen { .. }) => return Err(SecretError::TooOpen(shown)),
            Err(LocalFileError::NotRegular) => return Err(SecretError::NotRegular(shown)),
            Err(LocalFileError::Io(source)) => {
                return Err(SecretError::Io {
                    path: shown,
                    source,
                });
            }
        };
        let arr: [u8; MASTER_KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretError::BadLength(shown.clone()))?;
        let arr = Zeroizing::new(arr);
        Self::from_bytes(&arr).map(Some)
    }

    /// Creates a new master key file (32 random bytes, mode 0600); refuses to replace a file
    /// already at `path`. Whether a new key may be made at all is the caller's decision
    /// (see [`crate::unlock`]).
    pub fn create(path: &Path) -> Result<Self, SecretError> {
        let io = |source| SecretError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut arr = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        SystemRandom::new()
            .fill(arr.as_mut())
            .map_err(|_| SecretError::Random)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(arr.as_ref()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Self::from_bytes(&arr)
    }

    /// Encrypts `plaintext` with AES-256-GCM; `context` is bound as associated data so a
    /// wrapped value cannot be moved to another row. Output: nonce || ciphertext || tag.
    pub fn wrap(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SecretError::Random)?;
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.wrap
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut body,
            )
            .map_err(|_| SecretError::Random)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts what [`MasterKey::wrap`] made with the same `context`.
    pub fn unwrap(&self, context: &str, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretError> {
        if wrapped.len() < NONCE_LEN + 16 {
            return Err(SecretError::Unwrap);
        }
        let (nonce, body) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Unwrap)?;
        let mut body = Zeroizing::new(body.to_vec());
        let plain = self
            .wrap
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| SecretError::Unwrap)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }

    /// Keyed hash of a bearer secret (API key, pre-authorized code, access token, tx_code)
    /// for storage and lookup; `purpose` separates the domains. Lower-case hex.
    pub fn hash_secret(&self, purpose: &str, secret: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.hash);
        ctx.update(purpose.as_bytes());
        ctx.update(&[0]);
        ctx.update(secret.as_bytes());
        hex_lower(ctx.sign().as_ref())
    }

    /// HMAC-SHA256 tag (32 bytes) of a `c_nonce` body, under its own derived key (see
    /// [`crate::domain::c_nonce`]).
    pub fn c_nonce_tag(&self, body: &[u8]) -> hmac::Tag {
        hmac::sign(&self.c_nonce, body)
    }

    /// Checks a `c_nonce` body's tag in constant time.
    pub fn c_nonce_tag_matches(&self, body: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.c_nonce, body, tag).is_ok()
    }

    /// HMAC-SHA256 tag (32 bytes) of an offer's access or refresh token body, under its own
    /// derived key (see [`crate::domain::offer_tokens`]).
    pub fn offer_token_tag(&self, body: &[u8]) -> hmac::Tag {
        hmac::sign(&self.offer_token, body)
    }

    /// Checks an offer token body's tag in constant time.
    pub fn offer_token_tag_matches(&self, body: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.offer_token, body, tag).is_ok()
    }

    /// Compares a secret with a stored hash in constant time.
    pub fn secret_matches(&self, purpose: &str, secret: &str, stored_hash: &str) -> bool {
        let Ok(tag) = hex::decode(stored_hash) else {
            return false;
        };
        let mut msg = Vec::with_capacity(purpose.len() + 1 + secret.len());
        msg.extend_from_slice(purpose.as_bytes());
        msg.push(0);
        msg.extend_from_slice(secret.as_bytes());
        hmac::verify(&self.hash, &msg, &tag).is_ok()
    }
}

/// Lower-case hex of `bytes`, written into one buffer (the `hex` crate's `encode` builds its
/// string a `char` at a time, which showed in bulk publishing's profile).
pub fn hex_lower(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    // The lengths match by construction, and hex digits are ASCII.
    if hex::encode_to_slice(bytes, &mut out).is_err() {
        return hex::encode(bytes);
    }
    String::from_utf8(out).unwrap_or_else(|_| hex::encode(bytes))
}

/// `n` random bytes from the system generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| SecretError::Random)?;
    Ok(out)
}

/// A random 128-bit identifier as 32 hex characters (row ids, offer ids, list ids).
pub fn random_id() -> Result<String, SecretError> {
    Ok(hex_lower(&random_bytes::<16>()?))
}

/// A 128-bit row id as 32 hex characters that sorts by creation time: the first 48 bits are
/// the Unix time in milliseconds (big-endian), the other 80 random; the layout of a UUIDv7
/// (RFC 9562 section 5.7) without its version and variant bits. Ids made one after the
/// other land at the end of an index on them, so a bulk insert writes a few index pages
/// instead of one random page per row (what limits SQLite's write-ahead log).
///
/// Only for ids that are no secret and may tell when their row was made (internal document
/// ids); an id that grants access (an offer's, in its URL) stays [`random_id`].
pub fn time_ordered_id() -> Result<String, SecretError> {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[10..]);
    bytes[6..].copy_from_slice(&random_bytes::<10>()?);
    Ok(hex_lower(&bytes))
}

/// A random 256-bit bearer secret that sorts by creation time: 12 hex digits of the Unix
/// time in milliseconds (as in [`time_ordered_id`]), `.`, then the base64url secret of
/// [`random_token`]. The time is no secret; the 256 random bits are. Its keyed hash, stored
/// after the same time prefix, lands at the end of an index on it
/// (see [`crate::domain::documents::code_hash`]).
pub fn time_prefixed_token() -> Result<String, SecretError> {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let prefix = hex_lower(&millis.to_be_bytes()[10..]);
    random_token(&format!("{prefix}{TIME_PREFIX_END}"))
}

/// What ends the time prefix of a [`time_prefixed_token`] (never in base64url).
pub const TIME_PREFIX_END: char = '.';

/// The time prefix of a [`time_prefixed_token`], `.` included; `None` for any other
/// string (a token made before time prefixes, or a forged one).
pub fn time_prefix(token: &str) -> Option<&str> {
    let prefix = token.get(..13)?;
    (prefix.ends_with(TIME_PREFIX_END) && prefix[..12].bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(prefix)
}

/// A random 256-bit bearer secret, base64url without padding, with a readable prefix.
pub fn random_token(prefix: &str) -> Result<String, SecretError> {
    use base64::Engine as _;
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref())
    ))
}

/// A uniformly random numeric code of `digits` digits (the `tx_code`), by rejection sampling.
pub fn random_digits(digits: u32) -> Result<String, SecretError> {
    let modulus = 10u64.pow(digits.min(18));
    let limit = u64::MAX - (u64::MAX % modulus);
    loop {
        let v = u64::from_le_bytes(random_bytes::<8>()?);
        if v < limit {
            return Ok(format!("{:0width$}", v % modulus, width = digits as usize));
        }
    }
}

/// A random index in `0..bound` (status-list slots), by rejection sampling.
pub fn random_below(bound: u64) -> Result<u64, SecretError> {
    if bound == 0 {
        return Ok(0);
    }
    let limit = u64::MAX - (u64::MAX % bound);
    loop {
        let v = u64::from_le_bytes(random_bytes::<8>()?);
        if v < limit {
            return Ok(v % bound);
        }
    }
}

/// Hex SHA-256 of `data` (content hashes for idempotency; not for secrets).
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn wrap_round_trips_and_binds_context() {
        let k = key();
        let w = k.wrap("kid-1", b"secret jwk").unwrap();
        assert_eq!(k.unwrap("kid-1", &w).unwrap().as_slice(), b"secret jwk");
        assert!(matches!(k.unwrap("kid-2", &w), Err(SecretError::Unwrap)));
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(matches!(
            other.unwrap("kid-1", &w),
            Err(SecretError::Unwrap)
        ));
        assert!(matches!(
            k.unwrap("kid-1", &w[..10]),
            Err(SecretError::Unwrap)
        ));
    }

    #[test]
    fn hash_is_keyed_and_purpose_separated() {
        let k = key();
        let h = k.hash_secret("api-key", "abc");
        assert_eq!(h.len(), 64);
        assert!(k.secret_matches("api-key", "abc", &h));
        assert!(!k.secret_matches("api-key", "abd", &h));
        assert!(!k.secret_matches("tx-code", "abc", &h));
        assert_ne!(
            h,
            MasterKey::from_bytes(&[8u8; 32])
                .unwrap()
                .hash_secret("api-key", "abc")
        );
        assert_ne!(h, sha256_hex(b"abc"));
    }

    #[test]
    fn master_key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        assert!(MasterKey::load(&path).unwrap().is_none());
        let a = MasterKey::create(&path).unwrap();
        let b = MasterKey::load(&path).unwrap().unwrap();
        assert_eq!(a.hash_secret("p", "x"), b.hash_secret("p", "x"));
        assert_eq!(std::fs::read(&path).unwrap().len(), 32);
        assert!(matches!(
            MasterKey::create(&path),
            Err(SecretError::Io { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                MasterKey::load(&path),
                Err(SecretError::TooOpen(_))
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, [1u8; 31]).unwrap();
        assert!(matches!(
            MasterKey::load(&path),
            Err(SecretError::BadLength(_))
        ));
        std::fs::write(&path, [1u8; 33]).unwrap();
        assert!(matches!(
            MasterKey::load(&path),
            Err(SecretError::BadLength(_))
        ));
    }

    /// `GIAYTO_MASTER_KEY_FILE=/dev/zero` used to be read until memory ran out.
    #[cfg(unix)]
    #[test]
    fn a_device_or_fifo_as_master_key_is_refused_at_once() {
        assert!(matches!(
            MasterKey::load(Path::new("/dev/zero")),
            Err(SecretError::NotRegular(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("master.key");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(matches!(
            MasterKey::load(&fifo),
            Err(SecretError::NotRegular(_))
        ));
    }

    #[test]
    fn random_values_have_the_promised_shape() {
        let code = random_digits(6).unwrap();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(random_id().unwrap().len(), 32);
        let (a, b) = (time_ordered_id().unwrap(), time_ordered_id().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later = time_ordered_id().unwrap();
        assert!(a < later && b < later, "{a} {b} {later}");
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let stamped = u128::from_str_radix(&later[..12], 16).unwrap();
        assert!(stamped <= millis && millis - stamped < 60_000);
        let t = random_token("gy_").unwrap();
        assert!(t.starts_with("gy_") && t.len() == 3 + 43);
        assert_ne!(random_token("").unwrap(), random_token("").unwrap());
        for _ in 0..100 {
            assert!(random_below(10).unwrap() < 10);
        }
    }

    #[test]
    fn time_prefixed_tokens_sort_by_time_and_keep_256_random_bits() {
        let a = time_prefixed_token().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = time_prefixed_token().unwrap();
        assert_eq!(a.len(), 12 + 1 + 43);
        assert!(
            time_prefix(&a).unwrap() < time_prefix(&b).unwrap(),
            "{a} {b}"
        );
        assert_eq!(time_prefix(&a), Some(&a[..13]));
        assert_ne!(a[13..], b[13..]);
        // Anything else has no time prefix: a token made before them (base64url never holds
        // a dot), a short or non-hex one, one whose 13th byte is inside a character.
        assert_eq!(time_prefix(&random_token("").unwrap()), None);
        assert_eq!(time_prefix("0123456789ab"), None);
        assert_eq!(time_prefix("0123456789aX.abc"), None);
        assert_eq!(time_prefix("0123456789ab\u{e9}.abc"), None);
    }

    #[test]
    fn hex_lower_matches_the_hex_crate() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_lower(&bytes), hex::encode(&bytes));
        assert_eq!(hex_lower(&[]), "");
    }
}
