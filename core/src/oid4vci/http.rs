//! The sans-IO HTTP seam: the session hands out [`HttpRequest`]s, the caller performs them
//! with whatever HTTP stack it has and hands back [`HttpResponse`]s. Also the shared
//! reading of responses: size bound, status, error bodies, JSON.

use serde::de::DeserializeOwned;

use super::error::{Endpoint, IssuerErrorCode, Oid4vciError, sanitize_description};
use super::messages::ErrorResponse;

/// The largest response body the client reads (1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The JSON media type.
pub(crate) const APPLICATION_JSON: &str = "application/json";
/// The form media type of token requests.
pub(crate) const APPLICATION_FORM: &str = "application/x-www-form-urlencoded";

/// An HTTP method the protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET (metadata, credential offer by reference).
    Get,
    /// POST (token, nonce, credential, deferred credential).
    Post,
}

impl Method {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request for the caller to perform.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Header fields to send, in order.
    pub headers: Vec<(String, String)>,
    /// The body; `None` sends none (a POST then has `Content-Length: 0`).
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub(crate) fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: url.into(),
            headers: vec![("Accept".into(), APPLICATION_JSON.into())],
            body: None,
        }
    }
}

/// Bodies carry codes and tokens and `Authorization` carries the access token: `Debug`
/// shows neither.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                if name.eq_ignore_ascii_case("authorization") {
                    (name.as_str(), "[redacted]")
                } else {
                    (name.as_str(), value.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// A response the caller received.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header fields as received.
    pub headers: Vec<(String, String)>,
    /// The body (the caller may stop reading after [`MAX_RESPONSE_BYTES`] + 1 bytes).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a JSON body and `Content-Type: application/json`.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("Content-Type".into(), APPLICATION_JSON.into())],
            body: body.into(),
        }
    }

    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Bodies carry access tokens and credentials: `Debug` shows only their length.
impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The media type of a response, lower-cased and without parameters.
fn media_type(response: &HttpResponse) -> Option<String> {
    response.header("content-type").map(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

/// Checks the size bound and the status; maps an error status to the issuer's error.
pub(crate) fn check_status(
    response: &HttpResponse,
    endpoint: Endpoint,
    success: &[u16],
) -> Result<(), Oid4vciError> {
    if response.body.len() > MAX_RESPONSE_BYTES {
        return Err(Oid4vciError::ResponseTooLarge {
            endpoint,
            size: response.body.len(),
            limit: MAX_RESPONSE_BYTES,
        });
    }
    if success.contains(&response.status) {
        return Ok(());
    }
    Err(error_from_response(response, endpoint))
}

/// The issuer's error from an error response: the JSON error body (RFC 6749 §5.2,
/// OpenID4VCI §8.3.1), else the `error` of a `WWW-Authenticate` challenge (RFC 6750 §3),
/// else the status with what an RFC 9457 problem body (or an OAuth body without a known
/// `error`) explains.
fn error_from_response(response: &HttpResponse, endpoint: Endpoint) -> Oid4vciError {
    if let Ok(body) = crate::limits::parse_json::<ErrorResponse>(&response.body) {
        return Oid4vciError::Issuer {
            endpoint,
            error: body.error,
            description: body.error_description.as_deref().map(sanitize_description),
        };
    }
    if let Some(code) = response
        .header("www-authenticate")
        .and_then(challenge_error)
    {
        return Oid4vciError::Issuer {
            endpoint,
            error: IssuerErrorCode::from_code(code),
            description: None,
        };
    }
    Oid4vciError::UnexpectedStatus {
        endpoint,
        status: response.status,
        detail: crate::http_problem::explanation(&response.body),
    }
}

/// The `error="..."` parameter of a Bearer or DPoP challenge.
fn challenge_error(challenge: &str) -> Option<&str> {
    let start = challenge.find("error=\"")? + "error=\"".len();
    let rest = &challenge[start..];
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// Reads a successful JSON response: bound, status, media type, JSON shape.
pub(crate) fn read_json<T: DeserializeOwned>(
    response: &HttpResponse,
    endpoint: Endpoint,
    success: &[u16],
) -> Result<T, Oid4vciError> {
    check_status(response, endpoint, success)?;
    match media_type(response).as_deref() {
        Some("application/jwt") => {
            return Err(Oid4vciError::Unsupported(format!(
                "{endpoint} response as application/jwt (signed or encrypted)"
            )));
        }
        Some(APPLICATION_JSON) | None => {}
        Some(other) if other.ends_with("+json") => {}
        Some(_) => {
            return Err(Oid4vciError::InvalidResponse {
                endpoint,
                reason: "media type is not application/json".into(),
            });
        }
    }
    crate::limits::parse_json(&response.body)
        .map_err(|reason| Oid4vciError::InvalidResponse { endpoint, reason })
}

/// Like [`read_json`], but the response must declare `application/json` (the credential
/// offer by reference, OpenID4VCI §4.1.3).
pub(crate) fn read_strict_json<T: DeserializeOwned>(
    response: &HttpResponse,
    endpoint: Endpoint,
) -> Result<T, Oid4vciError> {
    check_status(response, endpoint, &[200])?;
    if media_type(response).as_deref() != Some(APPLICATION_JSON) {
        return Err(Oid4vciError::InvalidResponse {
            endpoint,
            reason: "media type must be application/json".into(),
        });
    }
    read_json(response, endpoint, &[200])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_bodies_and_authorization() {
        let request = HttpRequest {
            method: Method::Post,
            url: "https://issuer.example/token".into(),
            headers: vec![("Authorization".into(), "Bearer s3cr3t".into())],
            body: Some(b"tx_code=493536".to_vec()),
        };
        let shown = format!("{request:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("493536"), "{shown}");
        let response = HttpResponse::json(200, r#"{"access_token":"s3cr3t"}"#);
        assert!(!format!("{response:?}").contains("s3cr3t"));
    }

    #[test]
    fn error_bodies_and_challenges() {
        let body = HttpResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"code\nexpired"}"#,
        );
        assert_eq!(
            check_status(&body, Endpoint::Token, &[200]),
            Err(Oid4vciError::Issuer {
                endpoint: Endpoint::Token,
                error: IssuerErrorCode::InvalidGrant,
                description: Some("codeexpired".into()),
            })
        );
        let challenge = HttpResponse {
            status: 401,
            headers: vec![(
                "WWW-Authenticate".into(),
                r#"Bearer realm="x", error="invalid_token""#.into(),
            )],
            body: Vec::new(),
        };
        assert_eq!(
            check_status(&challenge, Endpoint::Credential, &[200]),
            Err(Oid4vciError::Issuer {
                endpoint: Endpoint::Credential,
                error: IssuerErrorCode::InvalidToken,
                description: None,
            })
        );
        let bare = HttpResponse::json(500, "oops");
        assert_eq!(
            check_status(&bare, Endpoint::Nonce, &[200]),
            Err(Oid4vciError::UnexpectedStatus {
                endpoint: Endpoint::Nonce,
                status: 500,
                detail: None,
            })
        );
        let problem = HttpResponse {
            status: 409,
            headers: vec![(
                "Content-Type".into(),
                "application/problem+json".into(),
            )],
            body: br#"{"type":"https://giayto.gov.vn/problems/conflict","title":"Conflict","status":409,"detail":"the citizen has no valid ID card from this agency: publish it first"}"#.to_vec(),
        };
        let error = check_status(&problem, Endpoint::AccountTransfer, &[201]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unexpected HTTP status 409 from the account transfer endpoint: the citizen has no \
             valid ID card from this agency: publish it first"
        );
    }

    #[test]
    fn bodies_are_bounded() {
        let big = HttpResponse::json(200, vec![b' '; MAX_RESPONSE_BYTES + 1]);
        assert!(matches!(
            check_status(&big, Endpoint::IssuerMetadata, &[200]),
            Err(Oid4vciError::ResponseTooLarge { .. })
        ));
    }
}
