//! JOSE on ring: JWK (P-256, Ed25519), RFC 7638 thumbprints, JWKS, compact JWS with an algorithm allow-list, and the `Signer` seam.
