//! Blocking HTTP for the command (ureq): performing the sans-IO OpenID4VCI client's
//! requests, and fetching trust and status lists. Response bodies are bounded; error
//! messages name the URL and the failure, never request bodies or headers (which carry
//! codes and tokens).

use std::time::Duration;

use giayto_core::oid4vci::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Method};

use crate::error::CliError;

/// Most bytes of an error answer's body read for its explanation.
const MAX_ERROR_BODY_BYTES: u64 = 16 * 1024;

/// How long one exchange may take in all.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An agent that returns 4xx/5xx responses instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .user_agent(concat!("giayto/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// An agent like [`agent`] that never follows an HTTP redirect: OpenID4VP 1.0 section
/// 14.11 (the request object and the response go only where the request said; a 3xx is
/// then an error status the core client refuses).
pub fn agent_without_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(TIMEOUT))
        .user_agent(concat!("giayto/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// The URL without its query and fragment, for messages (queries may carry codes).
pub fn redact_url(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

fn network_error(url: &str, error: &ureq::Error) -> CliError {
    CliError::Network(format!("{}: {error}", redact_url(url)))
}

/// Reads a response body of at most `limit` bytes.
fn read_body(
    url: &str,
    response: &mut ureq::http::Response<ureq::Body>,
    limit: u64,
) -> Result<Vec<u8>, CliError> {
    response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => CliError::Network(format!(
                "{}: too large (more than the {limit}-byte limit)",
                redact_url(url)
            )),
            other => network_error(url, &other),
        })
}

/// Performs one request of the sans-IO OpenID4VCI client.
pub fn perform(agent: &ureq::Agent, request: &HttpRequest) -> Result<HttpResponse, CliError> {
    perform_bounded(agent, request, MAX_RESPONSE_BYTES)
}

/// Performs one request of a sans-IO core client, reading at most `limit` body bytes (the
/// limit the core gives for that kind of document).
pub fn perform_bounded(
    agent: &ureq::Agent,
    request: &HttpRequest,
    limit: usize,
) -> Result<HttpResponse, CliError> {
    let url = request.url.as_str();
    let result = match request.method {
        Method::Get => {
            let mut builder = agent.get(url);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            builder.call()
        }
        Method::Post => {
            let mut builder = agent.post(url);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            match &request.body {
                Some(body) => builder.send(body.as_slice()),
                None => builder.send_empty(),
            }
        }
    };
    let mut response = result.map_err(|e| network_error(url, &e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = read_body(url, &mut response, limit as u64)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// GETs `url` and returns its body (status 200 only), at most `limit` bytes.
pub fn get(agent: &ureq::Agent, url: &str, limit: u64) -> Result<Vec<u8>, CliError> {
    let mut response = agent.get(url).call().map_err(|e| network_error(url, &e))?;
    let status = response.status().as_u16();
    if status != 200 {
        // What the server explains (a problem's `detail`), from a bounded read of the body.
        let body = read_body(url, &mut response, MAX_ERROR_BODY_BYTES).unwrap_or_default();
        return Err(CliError::Network(format!(
            "{}: {}",
            redact_url(url),
            giayto_core::http_problem::status_message(status, &body)
        )));
    }
    read_body(url, &mut response, limit)
}
