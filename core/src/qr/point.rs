//! P-256 point compression for the QR codec (format 2): a `cnf` key's `y` coordinate is
//! rebuilt from its `x` and one parity bit (SEC 1 v2 section 2.3.4, done by the RustCrypto
//! `p256` crate), so the QR carries 33 bytes of key instead of 64.

use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{AffinePoint, EncodedPoint};

/// Length of a P-256 field element, in bytes.
const COORDINATE_LEN: usize = 32;

/// The `y` of the P-256 point with this `x` and `y` parity (`0` even, `1` odd); `None` when
/// `x` is not 32 bytes, the parity is neither, or no point of the curve has this `x`.
pub(crate) fn rebuild_y(x: &[u8], parity: u8) -> Option<[u8; COORDINATE_LEN]> {
    if x.len() != COORDINATE_LEN || parity > 1 {
        return None;
    }
    let mut compressed = [0u8; COORDINATE_LEN + 1];
    compressed[0] = 0x02 | parity;
    compressed[1..].copy_from_slice(x);
    let encoded = EncodedPoint::from_bytes(compressed).ok()?;
    let point: Option<AffinePoint> = AffinePoint::from_encoded_point(&encoded).into();
    let uncompressed = point?.to_encoded_point(false);
    let y = uncompressed.y()?;
    let mut out = [0u8; COORDINATE_LEN];
    out.copy_from_slice(y);
    Some(out)
}

/// The parity to write for `y` when [`rebuild_y`] gives back exactly `y` from `x`, so the
/// codec may drop it; `None` when it would not (not a P-256 point, not 32-byte values).
pub(crate) fn y_parity_if_rebuilt(x: &[u8], y: &[u8]) -> Option<u8> {
    let parity = y.last()? & 1;
    (rebuild_y(x, parity)?.as_slice() == y).then_some(parity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The P-256 base point G (SEC 2 v2 section 2.4.2; FIPS 186-4 D.1.2.3).
    const GX: &str = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
    const GY: &str = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

    #[test]
    fn the_base_point_is_rebuilt_from_its_x() {
        let (x, y) = (hex(GX), hex(GY));
        assert_eq!(y_parity_if_rebuilt(&x, &y), Some(1));
        assert_eq!(rebuild_y(&x, 1).unwrap().as_slice(), y.as_slice());
        // The other parity is the negated point, p - y.
        let other = rebuild_y(&x, 0).unwrap();
        assert_ne!(other.as_slice(), y.as_slice());
        assert_eq!(other[31] & 1, 0);
    }

    #[test]
    fn values_that_are_not_a_point_are_kept() {
        let x = hex(GX);
        let mut y = hex(GY);
        y[0] ^= 1;
        assert_eq!(y_parity_if_rebuilt(&x, &y), None);
        // About half of all x values are on no P-256 point; such an x keeps its y lifted.
        let off_curve = (0u8..=255)
            .map(|b| [b; 32])
            .find(|x| rebuild_y(x, 0).is_none())
            .unwrap();
        assert_eq!(rebuild_y(&off_curve, 1), None);
        assert_eq!(y_parity_if_rebuilt(&off_curve, &[0; 32]), None);
        assert_eq!(rebuild_y(&x[..31], 0), None);
        assert_eq!(rebuild_y(&x, 2), None);
    }
}
