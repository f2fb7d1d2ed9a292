//! The answer: the Authorization Response `{"vp_token": {<query id>: [<SD-JWT+KB>]},
//! "state"}` (OpenID4VP 1.0 section 8.1) encrypted as a JWE to the verifier's ephemeral
//! key ([`crate::jose::jwe`]; section 8.3: `alg` `ECDH-ES`, `enc` from the request, the key's `kid`), posted
//! form-encoded as `response=<JWE>` to `response_uri` (section 8.3.1, `direct_post.jwt`);
//! and the verifier's reply, 200 with JSON that may hold `redirect_uri` (section 8.2).

use serde_json::{Map, Value, json};

use super::{Oid4vpError, VerifiedRequest};
use crate::jose::jwe::{ContentEncryption, encrypt_ecdh_es};
use crate::oid4vci::{HttpRequest, HttpResponse, Method, parse_secure_url};

/// The largest verifier reply read.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;
const APPLICATION_FORM: &str = "application/x-www-form-urlencoded";

/// What the verifier answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseOutcome {
    /// Where to send the holder next (same-device flow), when the verifier said so.
    pub redirect_uri: Option<String>,
}

/// Encrypts `vp_token` (Credential Query id -> presentations) with `state` for `request`.
pub fn encrypt_response(
    request: &VerifiedRequest,
    vp_token: &Map<String, Value>,
) -> Result<String, Oid4vpError> {
    let mut payload = json!({ "vp_token": vp_token });
    if let Some(state) = &request.state {
        payload["state"] = Value::from(state.as_str());
    }
    let bytes = serde_json::to_vec(&payload).map_err(|e| Oid4vpError::Encryption(e.to_string()))?;
    let recipient: crate::jose::Jwk =
        serde_json::from_value(Value::Object(request.encryption_jwk.clone()))
            .map_err(|e| Oid4vpError::Encryption(e.to_string()))?;
    let enc = ContentEncryption::from_name(&request.enc)
        .ok_or(Oid4vpError::Unsupported("that content encryption"))?;
    let kid = request.encryption_jwk.get("kid").and_then(Value::as_str);
    encrypt_ecdh_es(&bytes, &recipient, enc, kid)
        .map_err(|e| Oid4vpError::Encryption(e.to_string()))
}

/// The POST of a form body to the request's `response_uri`.
pub fn post_form(
    request: &VerifiedRequest,
    fields: &[(&str, &str)],
) -> Result<HttpRequest, Oid4vpError> {
    let body =
        serde_urlencoded::to_string(fields).map_err(|e| Oid4vpError::Encryption(e.to_string()))?;
    Ok(HttpRequest {
        method: Method::Post,
        url: request.response_uri.clone(),
        headers: vec![
            ("Content-Type".into(), APPLICATION_FORM.into()),
            ("Accept".into(), "application/json".into()),
        ],
        body: Some(body.into_bytes()),
    })
}

/// Reads the verifier's reply to the posted response: 200 with a JSON object (or an empty
/// body), whose `redirect_uri`, if any, must be `https` (or `http` on loopback). An error
/// status is [`Oid4vpError::Http`] with the OAuth `error` code and `error_description`
/// (or a problem's `detail`) when the body has them.
pub fn read_reply(response: &HttpResponse) -> Result<ResponseOutcome, Oid4vpError> {
    if response.body.len() > MAX_REPLY_BYTES {
        return Err(Oid4vpError::TooLarge {
            endpoint: "response_uri",
            size: response.body.len(),
            limit: MAX_REPLY_BYTES,
        });
    }
    let body: Option<Map<String, Value>> = if response.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        crate::limits::parse_json(&response.body).ok()
    };
    if response.status != 200 {
        let error = body
            .as_ref()
            .and_then(|b| b.get("error"))
            .and_then(Value::as_str)
            .map(|e| {
                e.chars()
                    .filter(|c| c.is_ascii_graphic())
                    .take(64)
                    .collect::<String>()
            });
        return Err(Oid4vpError::Http {
            endpoint: "response_uri",
            status: response.status,
            error,
            detail: crate::http_problem::explanation(&response.body),
        });
    }
    let redirect_uri = match body.as_ref().and_then(|b| b.get("redirect_uri")) {
        None => None,
        Some(Value::String(uri)) => {
            parse_secure_url(uri)?;
            Some(uri.clone())
        }
        Some(_) => {
            return Err(Oid4vpError::MalformedRequest(
                "the verifier's redirect_uri is not a string".into(),
            ));
        }
    };
    Ok(ResponseOutcome { redirect_uri })
}
