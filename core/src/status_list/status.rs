//! Status Type values and the reference a Referenced Token carries to its Status List.

use serde::{Deserialize, Serialize};

/// A Status Type value (draft section "Status Types Values").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0x00 "VALID": the token is valid.
    Valid,
    /// 0x01 "INVALID": the token is revoked, annulled or cancelled.
    Invalid,
    /// 0x02 "SUSPENDED": the token is temporarily invalid.
    Suspended,
    /// Any other value: 0x03 and 0x0C..=0x0F are application specific, the rest reserved.
    /// Built by [`Status::from`], which never yields `Other(0..=2)`.
    Other(u8),
}

impl Status {
    /// The numeric Status Type value.
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0x00,
            Status::Invalid => 0x01,
            Status::Suspended => 0x02,
            Status::Other(v) => v,
        }
    }
}

impl From<u8> for Status {
    fn from(value: u8) -> Status {
        match value {
            0x00 => Status::Valid,
            0x01 => Status::Invalid,
            0x02 => Status::Suspended,
            other => Status::Other(other),
        }
    }
}

/// The `status_list` object of a Referenced Token's `status` claim (draft section
/// "Referenced Token in JOSE"): the entry `idx` of the Status List Token at `uri`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusReference {
    /// Index of the token's entry in the list.
    pub idx: u64,
    /// URI of the Status List Token; equals that token's `sub`.
    pub uri: String,
}

/// The `status` claim of a Referenced Token when it uses the Status List mechanism.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusClaim {
    /// The reference to the Status List entry.
    pub status_list: StatusReference,
}
