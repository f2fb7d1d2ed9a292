//! The vault file format, version 1 (layout in the [`vault`](super) module docs): header
//! parsing, AES-256-GCM sealing and opening with the header as additional authenticated data.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::{VaultError, VaultKey};

/// The eight magic bytes every vault file starts with.
pub const MAGIC: [u8; 8] = *b"GIAYTOV1";
/// The only format version this code reads and writes.
pub const FORMAT_VERSION: u8 = 1;
/// Length of the header (magic, version, nonce), which is also the AAD.
pub const HEADER_LEN: usize = MAGIC.len() + 1 + NONCE_LEN;
/// Length of the AES-GCM authentication tag at the end of the file.
pub const TAG_LEN: usize = 16;
/// Largest vault file accepted or written, checked before a file is read: 64 MiB.
pub const MAX_VAULT_FILE_LEN: u64 = 64 * 1024 * 1024;

/// The 96-bit AES-GCM nonce stored in a vault header.
pub(crate) type VaultNonce = [u8; NONCE_LEN];

fn aead_key(key: &VaultKey) -> Result<LessSafeKey, VaultError> {
    // AES_256_GCM takes exactly 32 bytes, which VaultKey guarantees; ring reports no other error.
    UnboundKey::new(&AES_256_GCM, key.as_bytes())
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::WrongKeyOrCorrupted)
}

fn header(nonce: &VaultNonce) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..MAGIC.len()].copy_from_slice(&MAGIC);
    header[MAGIC.len()] = FORMAT_VERSION;
    header[MAGIC.len() + 1..].copy_from_slice(nonce);
    header
}

/// Draws a fresh nonce from the OS CSPRNG. 96 random bits per write keep the chance of a
/// repeated nonce under one key negligible for any number of writes a phone will make.
pub(crate) fn random_nonce() -> Result<VaultNonce, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| VaultError::RandomUnavailable)?;
    Ok(nonce)
}

/// Encrypts `body` into a complete vault file under `key` with the given nonce.
///
/// The nonce must never repeat under one key; production writes use [`random_nonce`], a
/// fixed nonce exists only so tests can pin the format by bytes.
pub(crate) fn seal_with_nonce(
    key: &VaultKey,
    nonce: VaultNonce,
    body: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let total = HEADER_LEN + body.len() + TAG_LEN;
    if total as u64 > MAX_VAULT_FILE_LEN {
        return Err(VaultError::TooLarge);
    }
    let header = header(&nonce);
    let mut file = Vec::with_capacity(total);
    file.extend_from_slice(&header);
    let mut in_out = body.to_vec();
    aead_key(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(header),
            &mut in_out,
        )
        .map_err(|_| VaultError::TooLarge)?;
    file.extend_from_slice(&in_out);
    Ok(file)
}

/// Checks the header of a vault file and returns its nonce, without decrypting.
pub(crate) fn parse_header(file: &[u8]) -> Result<VaultNonce, VaultError> {
    let magic_len = MAGIC.len();
    if file.len() < magic_len {
        // A cut-off start of a vault file, or something else entirely.
        return if MAGIC.starts_with(file) {
            Err(VaultError::Truncated)
        } else {
            Err(VaultError::BadMagic)
        };
    }
    if file[..magic_len] != MAGIC {
        return Err(VaultError::BadMagic);
    }
    match file.get(magic_len) {
        None => return Err(VaultError::Truncated),
        Some(&FORMAT_VERSION) => {}
        Some(&other) => return Err(VaultError::UnsupportedVersion(other)),
    }
    if file.len() < HEADER_LEN + TAG_LEN {
        return Err(VaultError::Truncated);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&file[magic_len + 1..HEADER_LEN]);
    Ok(nonce)
}

/// Decrypts a complete vault file. Returns the JSON body (wiped when dropped) and the
/// nonce the file was written with.
///
/// AES-GCM cannot tell a wrong key from altered bytes: both fail the tag check and give
/// [`VaultError::WrongKeyOrCorrupted`].
pub(crate) fn open_sealed(
    key: &VaultKey,
    file: &[u8],
) -> Result<(Zeroizing<Vec<u8>>, VaultNonce), VaultError> {
    let nonce = parse_header(file)?;
    let (header, ciphertext) = file.split_at(HEADER_LEN);
    let mut in_out = Zeroizing::new(ciphertext.to_vec());
    let plaintext_len = aead_key(key)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(header),
            &mut in_out,
        )
        .map_err(|_| VaultError::WrongKeyOrCorrupted)?
        .len();
    in_out.truncate(plaintext_len);
    Ok((in_out, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn test_key() -> VaultKey {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        VaultKey::from_bytes(bytes)
    }

    const TEST_NONCE: VaultNonce = [
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
    ];
    const TEST_BODY: &[u8] = br#"{"credentials":[]}"#;

    /// Pinned by bytes; the expected value was computed independently with Python's
    /// `cryptography` AESGCM (key 00..1f, nonce a0..ab, AAD = the 21 header bytes).
    const EXPECTED_HEX: &str = "47494159544f563101a0a1a2a3a4a5a6a7a8a9aaab9d3a1f5f20af67d1160ce6bf7458fa852dd1c89d47a31d14946193c4c743e5abcdf1";

    #[test]
    fn seal_matches_pinned_bytes() {
        let file = seal_with_nonce(&test_key(), TEST_NONCE, TEST_BODY).unwrap();
        assert_eq!(hex(&file), EXPECTED_HEX);
        assert_eq!(file.len(), HEADER_LEN + TEST_BODY.len() + TAG_LEN);
        assert_eq!(&file[..9], b"GIAYTOV1\x01");
        assert_eq!(&file[9..21], &TEST_NONCE);
    }

    #[test]
    fn open_returns_body_and_nonce() {
        let file = seal_with_nonce(&test_key(), TEST_NONCE, TEST_BODY).unwrap();
        let (body, nonce) = open_sealed(&test_key(), &file).unwrap();
        assert_eq!(body.as_slice(), TEST_BODY);
        assert_eq!(nonce, TEST_NONCE);
    }

    #[test]
    fn header_is_authenticated() {
        let mut file = seal_with_nonce(&test_key(), TEST_NONCE, TEST_BODY).unwrap();
        file[9] ^= 1; // a nonce bit
        assert!(matches!(
            open_sealed(&test_key(), &file),
            Err(VaultError::WrongKeyOrCorrupted)
        ));
    }

    #[test]
    fn header_errors_are_specific() {
        assert!(matches!(parse_header(b""), Err(VaultError::Truncated)));
        assert!(matches!(parse_header(b"GIAY"), Err(VaultError::Truncated)));
        assert!(matches!(
            parse_header(b"GIAYTOV1"),
            Err(VaultError::Truncated)
        ));
        assert!(matches!(
            parse_header(b"NOTAVAULT"),
            Err(VaultError::BadMagic)
        ));
        assert!(matches!(parse_header(b"xy"), Err(VaultError::BadMagic)));
        assert!(matches!(
            parse_header(b"GIAYTOV1\x02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            Err(VaultError::UnsupportedVersion(2))
        ));
        // Header complete but no room for a tag.
        let short = [&MAGIC[..], &[1u8], &[0u8; 12], &[0u8; 15]].concat();
        assert!(matches!(parse_header(&short), Err(VaultError::Truncated)));
    }
}
