//! URL rules of the protocol: identifiers and endpoints use `https` (plain `http` only on
//! loopback hosts, so tests and local development can run without TLS), and the
//! well-known metadata URLs are built by inserting the well-known path between the host
//! and the path of an identifier (OpenID4VCI §12.2.2, RFC 8414 §3.1).

use url::{Host, Url};

use super::error::Oid4vciError;

/// Well-known suffix of Credential Issuer metadata (OpenID4VCI §12.2.2).
pub const CREDENTIAL_ISSUER_WELL_KNOWN: &str = "/.well-known/openid-credential-issuer";
/// Well-known suffix of OAuth 2.0 Authorization Server metadata (RFC 8414 §3).
pub const AUTHORIZATION_SERVER_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";

/// Well-known suffix of JWT VC Issuer Metadata (SD-JWT VC section "JWT VC Issuer Metadata").
pub const JWT_VC_ISSUER_WELL_KNOWN: &str = "/.well-known/jwt-vc-issuer";

/// The longest URL accepted anywhere.
const MAX_URL_BYTES: usize = 8 * 1024;

fn shown(url: &str) -> String {
    url.chars().take(120).collect()
}

/// Parses an absolute URL that must use `https`, or `http` on a loopback host
/// (`localhost`, `127.0.0.0/8`, `[::1]`).
pub fn parse_secure_url(url: &str) -> Result<Url, Oid4vciError> {
    if url.len() > MAX_URL_BYTES {
        return Err(Oid4vciError::InvalidUrl {
            url: shown(url),
            reason: "too long",
        });
    }
    let parsed = Url::parse(url).map_err(|_| Oid4vciError::InvalidUrl {
        url: shown(url),
        reason: "not an absolute URL",
    })?;
    let loopback = match parsed.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => {
            return Err(Oid4vciError::InvalidUrl {
                url: shown(url),
                reason: "no host",
            });
        }
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(Oid4vciError::InsecureUrl(shown(url))),
    }
}

/// Checks a Credential Issuer or Authorization Server identifier: a secure URL with no
/// query, no fragment and no user information (OpenID4VCI §12.2.1, RFC 8414 §2).
pub fn parse_identifier(identifier: &str) -> Result<Url, Oid4vciError> {
    let url = parse_secure_url(identifier)?;
    let reason = if url.query().is_some() {
        Some("an identifier has no query")
    } else if url.fragment().is_some() {
        Some("an identifier has no fragment")
    } else if !url.username().is_empty() || url.password().is_some() {
        Some("an identifier has no user information")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Oid4vciError::InvalidUrl {
            url: shown(identifier),
            reason,
        }),
        None => Ok(url),
    }
}

/// Inserts `well_known` between the host (and port) and the path of `identifier`; a
/// terminating `/` of the path is removed first (RFC 8414 §3.1).
fn well_known_url(identifier: &str, well_known: &str) -> Result<String, Oid4vciError> {
    let mut url = parse_identifier(identifier)?;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{well_known}{path}"));
    Ok(url.into())
}

/// The Credential Issuer metadata URL of an issuer identifier:
/// `https://issuer.example.com/tenant` ->
/// `https://issuer.example.com/.well-known/openid-credential-issuer/tenant`.
pub fn credential_issuer_metadata_url(credential_issuer: &str) -> Result<String, Oid4vciError> {
    well_known_url(credential_issuer, CREDENTIAL_ISSUER_WELL_KNOWN)
}

/// The Authorization Server metadata URL of an issuer identifier (RFC 8414 §3.1):
/// `https://as.example.com/issuer1` ->
/// `https://as.example.com/.well-known/oauth-authorization-server/issuer1`.
pub fn authorization_server_metadata_url(issuer: &str) -> Result<String, Oid4vciError> {
    well_known_url(issuer, AUTHORIZATION_SERVER_WELL_KNOWN)
}

/// The JWT VC Issuer Metadata URL of an SD-JWT VC's `iss` (SD-JWT VC section "JWT VC
/// Issuer Metadata": the well-known string between the host and the path, a terminating
/// `/` removed): `https://issuer.example.com/agencies/police` ->
/// `https://issuer.example.com/.well-known/jwt-vc-issuer/agencies/police`.
pub fn jwt_vc_issuer_metadata_url(iss: &str) -> Result<String, Oid4vciError> {
    well_known_url(iss, JWT_VC_ISSUER_WELL_KNOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_urls() {
        assert!(parse_secure_url("https://issuer.example.com/x").is_ok());
        assert!(parse_secure_url("http://127.0.0.1:8080/x").is_ok());
        assert!(parse_secure_url("http://localhost/x").is_ok());
        assert!(parse_secure_url("http://[::1]:3000").is_ok());
        assert_eq!(
            parse_secure_url("http://issuer.example.com"),
            Err(Oid4vciError::InsecureUrl(
                "http://issuer.example.com".into()
            ))
        );
        assert!(matches!(
            parse_secure_url("http://127.0.0.1.evil.example/"),
            Err(Oid4vciError::InsecureUrl(_))
        ));
        assert!(matches!(
            parse_secure_url("ftp://issuer.example.com"),
            Err(Oid4vciError::InsecureUrl(_))
        ));
        assert!(matches!(
            parse_secure_url("/relative"),
            Err(Oid4vciError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn identifiers_have_no_query_or_fragment() {
        assert!(parse_identifier("https://issuer.example.com/tenant").is_ok());
        for bad in [
            "https://issuer.example.com/?a=b",
            "https://issuer.example.com/#f",
            "https://user:pw@issuer.example.com/",
        ] {
            assert!(
                matches!(parse_identifier(bad), Err(Oid4vciError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }
}
