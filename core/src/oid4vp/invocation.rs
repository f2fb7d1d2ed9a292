//! The invocation: what the verifier's QR code or same-device link holds, an authorization
//! request by reference (OpenID4VP 1.0 section 5 with RFC 9101 `request_uri`), under the
//! `openid4vp://` scheme (OpenID4VP 1.0 section 13.1.2) or HAIP 1.0's `haip-vp://`.
//!
//! Only by-reference requests are taken: the request object must be signed (HAIP 1.0), and
//! fetching it by `request_uri` is the contract's only way. `request_uri_method=post`
//! (OpenID4VP 1.0 section 5.10) is refused.

use std::collections::HashSet;

use url::Url;

use super::Oid4vpError;
use crate::oid4vci::{HttpRequest, Method, parse_secure_url};

/// The custom scheme of OpenID4VP 1.0 section 13.1.2.
pub const OPENID4VP_SCHEME: &str = "openid4vp";
/// The custom scheme of HAIP 1.0.
pub const HAIP_VP_SCHEME: &str = "haip-vp";
/// The largest invocation the wallet reads (QR codes hold under 3 KiB).
pub const MAX_INVOCATION_BYTES: usize = 4096;
/// The media type of a request object (RFC 9101 section 10.2).
pub const REQUEST_OBJECT_MEDIA_TYPE: &str = "application/oauth-authz-req+jwt";

/// A parsed invocation: who claims to ask and where its signed request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The client identifier with its prefix, as the invocation gives it.
    pub client_id: String,
    /// Where to GET the request object (`https`, or `http` on loopback).
    pub request_uri: String,
}

impl Invocation {
    /// Parses an invocation URI, or the text of the QR code that carries it (surrounding
    /// whitespace ignored). At most [`MAX_INVOCATION_BYTES`]; each parameter at most once;
    /// `client_id` and `request_uri` required; a by-value `request` or `request_uri_method`
    /// other than `get` refused.
    pub fn parse(text: &str) -> Result<Invocation, Oid4vpError> {
        let text = text.trim();
        if text.len() > MAX_INVOCATION_BYTES {
            return Err(Oid4vpError::Invocation(format!(
                "longer than {MAX_INVOCATION_BYTES} bytes"
            )));
        }
        let url = Url::parse(text).map_err(|_| Oid4vpError::Invocation("not a URI".into()))?;
        if url.scheme() != OPENID4VP_SCHEME && url.scheme() != HAIP_VP_SCHEME {
            return Err(Oid4vpError::Invocation(format!(
                "scheme {:?} is neither openid4vp nor haip-vp",
                crate::jose::truncate(url.scheme())
            )));
        }
        let mut seen = HashSet::new();
        let mut client_id = None;
        let mut request_uri = None;
        for (name, value) in url.query_pairs() {
            if !seen.insert(name.to_string()) {
                return Err(Oid4vpError::Invocation(format!(
                    "parameter {} given twice",
                    crate::jose::truncate(&name)
                )));
            }
            match name.as_ref() {
                "client_id" => client_id = Some(value.into_owned()),
                "request_uri" => request_uri = Some(value.into_owned()),
                "request" => return Err(Oid4vpError::Unsupported("a request passed by value")),
                "request_uri_method" if value != "get" => {
                    return Err(Oid4vpError::Unsupported(
                        "request_uri_method other than get",
                    ));
                }
                _ => {}
            }
        }
        let client_id = client_id
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Oid4vpError::Invocation("no client_id".into()))?;
        let request_uri =
            request_uri.ok_or_else(|| Oid4vpError::Invocation("no request_uri".into()))?;
        parse_secure_url(&request_uri)?;
        Ok(Invocation {
            client_id,
            request_uri,
        })
    }

    /// The GET of the request object (RFC 9101 section 5.2).
    pub fn request_object_request(&self) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: self.request_uri.clone(),
            headers: vec![("Accept".into(), REQUEST_OBJECT_MEDIA_TYPE.into())],
            body: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemes_and_their_qr_text() {
        for scheme in ["openid4vp", "haip-vp"] {
            let text = format!(
                " {scheme}://?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Fv.example%2Fr%2F1\n"
            );
            let invocation = Invocation::parse(&text).unwrap();
            assert_eq!(invocation.client_id, "x509_hash:abc");
            assert_eq!(invocation.request_uri, "https://v.example/r/1");
            let get = invocation.request_object_request();
            assert_eq!(get.method, Method::Get);
            assert_eq!(get.url, "https://v.example/r/1");
        }
    }

    #[test]
    fn refusals() {
        let bad = [
            "https://v.example/?client_id=a&request_uri=https://v.example/r",
            "openid4vp://?request_uri=https%3A%2F%2Fv.example%2Fr",
            "openid4vp://?client_id=a",
            "openid4vp://?client_id=a&client_id=b&request_uri=https%3A%2F%2Fv.example%2Fr",
            "openid4vp://?client_id=a&request_uri=http%3A%2F%2Fv.example%2Fr",
            "openid4vp://?client_id=a&request=eyJ...",
            "openid4vp://?client_id=a&request_uri=https%3A%2F%2Fv.example%2Fr&request_uri_method=post",
        ];
        for text in bad {
            assert!(Invocation::parse(text).is_err(), "{text}");
        }
        let long = format!(
            "openid4vp://?client_id={}",
            "a".repeat(MAX_INVOCATION_BYTES)
        );
        assert!(matches!(
            Invocation::parse(&long),
            Err(Oid4vpError::Invocation(_))
        ));
        // Loopback http is accepted, as everywhere in the wallet.
        assert!(
            Invocation::parse(
                "openid4vp://?client_id=a&request_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fr"
            )
            .is_ok()
        );
    }
}
