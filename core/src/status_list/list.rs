//! The Status List byte array: packing of 1/2/4/8-bit statuses, ZLIB compression and the
//! base64url `lst` string (draft section "Compressed Byte Array" and "Status List in JSON Format").

use std::io::{Read, Write};

use flate2::Compression;
use flate2::bufread::ZlibDecoder;
use flate2::write::ZlibEncoder;

use super::{Status, StatusListError};
use crate::jose::b64;

/// Largest uncompressed byte array accepted or built: 16 MiB, i.e. 67 million entries at
/// 2 bits. Bounds the memory an untrusted `lst` can make us allocate (decompression bomb).
pub const MAX_DECOMPRESSED_BYTES: usize = 16 * 1024 * 1024;

/// Largest compressed array accepted. DEFLATE never needs to expand incompressible data by
/// more than a few bytes per 16 KiB block, so the same bound as the uncompressed size is ample.
pub const MAX_COMPRESSED_BYTES: usize = MAX_DECOMPRESSED_BYTES;

/// A Status List: one status value of `bits` bits (1, 2, 4 or 8) per Referenced Token.
///
/// Entry `idx` lives in byte `idx * bits / 8`, at bit offset `(idx * bits) % 8` counted from
/// the least significant bit, as the draft's "Compressed Byte Array" section specifies
/// (status[0] is bit 0 of byte 0).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for StatusList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A list can be megabytes long: show its shape, not its content.
        f.debug_struct("StatusList")
            .field("bits", &self.bits)
            .field("len", &self.len())
            .finish()
    }
}

fn check_bits(bits: u64) -> Result<u8, StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(bits as u8),
        other => Err(StatusListError::InvalidBits(other)),
    }
}

impl StatusList {
    /// A list able to hold at least `len` entries of `bits` bits, all VALID (0x00).
    /// The byte array is rounded up to whole bytes, so [`StatusList::len`] may exceed `len`.
    pub fn new(bits: u8, len: u64) -> Result<StatusList, StatusListError> {
        let bits = check_bits(u64::from(bits))?;
        let too_large = StatusListError::TooLarge { entries: len, bits };
        let total_bits = len.checked_mul(u64::from(bits)).ok_or(too_large.clone())?;
        let byte_len = usize::try_from(total_bits.div_ceil(8)).map_err(|_| too_large.clone())?;
        if byte_len > MAX_DECOMPRESSED_BYTES {
            return Err(too_large);
        }
        Ok(StatusList {
            bits,
            bytes: vec![0; byte_len],
        })
    }

    /// A list over an existing uncompressed byte array.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<StatusList, StatusListError> {
        let bits = check_bits(u64::from(bits))?;
        if bytes.len() > MAX_DECOMPRESSED_BYTES {
            return Err(StatusListError::DecompressedTooLarge);
        }
        Ok(StatusList { bits, bytes })
    }

    /// Bits per entry: 1, 2, 4 or 8.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The uncompressed byte array.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of entries the byte array holds (`bytes * 8 / bits`).
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits)
    }

    /// Whether the list holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Byte position, bit shift and mask of entry `idx`, or `None` beyond the end.
    fn locate(&self, idx: u64) -> Option<(usize, u32, u8)> {
        if idx >= self.len() {
            return None;
        }
        let per_byte = 8 / u64::from(self.bits);
        let byte = usize::try_from(idx / per_byte).ok()?;
        // `idx % per_byte < 8`, so the shift is below 8.
        let shift = (idx % per_byte) as u32 * u32::from(self.bits);
        let mask = u8::MAX >> (8 - self.bits);
        Some((byte, shift, mask))
    }

    /// The raw status value of entry `idx`, or `None` if `idx` is beyond the list (the draft
    /// then requires the Referenced Token to be rejected).
    pub fn get(&self, idx: u64) -> Option<u8> {
        let (byte, shift, mask) = self.locate(idx)?;
        self.bytes.get(byte).map(|b| (b >> shift) & mask)
    }

    /// The [`Status`] of entry `idx`, or `None` if `idx` is beyond the list.
    pub fn status(&self, idx: u64) -> Option<Status> {
        self.get(idx).map(Status::from)
    }

    /// Sets entry `idx` to `value`; refuses an index beyond the list or a value wider than `bits`.
    pub fn set(&mut self, idx: u64, value: u8) -> Result<(), StatusListError> {
        let out_of_range = StatusListError::IndexOutOfRange {
            idx,
            len: self.len(),
        };
        let (byte, shift, mask) = self.locate(idx).ok_or(out_of_range.clone())?;
        if value & !mask != 0 {
            return Err(StatusListError::ValueTooLarge {
                value,
                bits: self.bits,
            });
        }
        let slot = self.bytes.get_mut(byte).ok_or(out_of_range)?;
        *slot = (*slot & !(mask << shift)) | (value << shift);
        Ok(())
    }

    /// Sets entry `idx` to `status`.
    pub fn set_status(&mut self, idx: u64, status: Status) -> Result<(), StatusListError> {
        self.set(idx, status.value())
    }

    /// The byte array compressed with DEFLATE in the ZLIB format at the highest level, as the
    /// draft recommends. This is the CBOR `lst` byte string.
    pub fn compress(&self) -> Result<Vec<u8>, StatusListError> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(&self.bytes)
            .map_err(|_| StatusListError::Compression)?;
        encoder.finish().map_err(|_| StatusListError::Compression)
    }

    /// The JSON `lst` member: the compressed byte array in base64url without padding.
    pub fn encode_lst(&self) -> Result<String, StatusListError> {
        Ok(b64::encode(self.compress()?))
    }

    /// Decodes a JSON Status List: `bits` and the base64url `lst` string.
    pub fn decode(bits: u64, lst: &str) -> Result<StatusList, StatusListError> {
        let bits = check_bits(bits)?;
        if lst.len() > MAX_COMPRESSED_BYTES.div_ceil(3) * 4 {
            return Err(StatusListError::CompressedTooLarge);
        }
        let compressed = b64::decode(lst).map_err(|_| StatusListError::Base64)?;
        Self::decompress(u64::from(bits), &compressed)
    }

    /// Decodes a compressed byte array (the CBOR `lst` byte string, or a decoded JSON `lst`).
    ///
    /// At most [`MAX_DECOMPRESSED_BYTES`] are ever inflated; a longer stream is refused, as
    /// is a corrupt or truncated stream, a bad Adler-32 checksum or bytes after the stream.
    pub fn decompress(bits: u64, compressed: &[u8]) -> Result<StatusList, StatusListError> {
        let bits = check_bits(bits)?;
        if compressed.len() > MAX_COMPRESSED_BYTES {
            return Err(StatusListError::CompressedTooLarge);
        }
        let mut decoder = ZlibDecoder::new(compressed);
        let mut bytes = Vec::new();
        (&mut decoder)
            .take(MAX_DECOMPRESSED_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Zlib)?;
        if bytes.len() > MAX_DECOMPRESSED_BYTES {
            return Err(StatusListError::DecompressedTooLarge);
        }
        if !decoder.get_ref().is_empty() {
            return Err(StatusListError::Zlib);
        }
        if bytes.is_empty() {
            return Err(StatusListError::Empty);
        }
        Ok(StatusList { bits, bytes })
    }
}

/// The JSON `StatusList` form (`bits` and `lst`) in which a [`StatusList`] is serialized.
#[derive(serde::Serialize, serde::Deserialize)]
struct StatusListJson {
    bits: u64,
    lst: String,
}

impl serde::Serialize for StatusList {
    /// Serializes as the draft's JSON `StatusList`, `{"bits": .., "lst": ".."}`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let lst = self.encode_lst().map_err(serde::ser::Error::custom)?;
        StatusListJson {
            bits: u64::from(self.bits),
            lst,
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for StatusList {
    /// Deserializes the JSON `StatusList` form, with [`StatusList::decode`]'s bounds.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = StatusListJson::deserialize(deserializer)?;
        StatusList::decode(json.bits, &json.lst).map_err(serde::de::Error::custom)
    }
}
