//! Blocking HTTP with ureq: performing core's sans-IO OpenID4VCI requests, and JSON or
//! text calls to the issuer API and public endpoints.

use std::time::Duration;

use giayto_core::oid4vci::{HttpRequest, HttpResponse, Method};
use serde_json::Value;

use crate::HarnessError;

/// Largest body read from the server, bytes.
const MAX_BODY: u64 = 64 << 20;

/// A response read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `content-type`, or empty.
    pub content_type: String,
    /// Every header field that is text, as received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value, HarnessError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| HarnessError::Unexpected(format!("not JSON ({e}): {}", self.text_start())))
    }

    /// The body as text.
    pub fn text(&self) -> Result<String, HarnessError> {
        String::from_utf8(self.body.clone())
            .map_err(|_| HarnessError::Unexpected("body is not UTF-8".into()))
    }

    fn text_start(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(300)
            .collect()
    }

    /// Fails unless the status is `expected`.
    pub fn expect(self, url: &str, expected: u16) -> Result<Reply, HarnessError> {
        if self.status == expected {
            Ok(self)
        } else {
            Err(HarnessError::Status {
                url: url.to_owned(),
                status: self.status,
                body: self.text_start(),
            })
        }
    }
}

/// An HTTP client that reports 4xx/5xx as replies, not errors.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

fn transport(url: &str, e: &ureq::Error) -> HarnessError {
    HarnessError::Http {
        url: url.split('?').next().unwrap_or_default().to_owned(),
        reason: e.to_string(),
    }
}

impl Client {
    /// A client with a 60-second overall timeout per exchange.
    pub fn new() -> Client {
        Client {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into(),
        }
    }

    fn read(
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, HarnessError> {
        let mut response = result.map_err(|e| transport(url, &e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| transport(url, &e))?;
        Ok(Reply {
            status,
            content_type,
            headers,
            body,
        })
    }

    /// GET `url`.
    pub fn get(&self, url: &str, bearer: Option<&str>) -> Result<Reply, HarnessError> {
        let mut req = self.agent.get(url);
        if let Some(key) = bearer {
            req = req.header("authorization", &format!("Bearer {key}"));
        }
        Client::read(url, req.call())
    }

    /// POST `body` with `content_type` to `url`.
    pub fn post(
        &self,
        url: &str,
        bearer: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Result<Reply, HarnessError> {
        let mut req = self.agent.post(url).header("content-type", content_type);
        if let Some(key) = bearer {
            req = req.header("authorization", &format!("Bearer {key}"));
        }
        Client::read(url, req.send(body))
    }

    /// POST JSON to `url`.
    pub fn post_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<Reply, HarnessError> {
        self.post(url, bearer, "application/json", body.to_string().as_bytes())
    }

    /// POST a body streamed from `reader` (chunked) to `url`.
    pub fn post_reader(
        &self,
        url: &str,
        bearer: &str,
        content_type: &str,
        reader: impl std::io::Read,
    ) -> Result<Reply, HarnessError> {
        let req = self
            .agent
            .post(url)
            .header("content-type", content_type)
            .header("authorization", &format!("Bearer {bearer}"));
        Client::read(url, req.send(ureq::SendBody::from_reader(&mut { reader })))
    }

    /// Performs one request of core's sans-IO OpenID4VCI client.
    pub fn perform(&self, request: &HttpRequest) -> Result<HttpResponse, HarnessError> {
        let url = request.url.as_str();
        let result = match request.method {
            Method::Get => {
                let mut b = self.agent.get(url);
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.call()
            }
            Method::Post => {
                let mut b = self.agent.post(url);
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                match &request.body {
                    Some(body) => b.send(body.as_slice()),
                    None => b.send_empty(),
                }
            }
        };
        let reply = Client::read(url, result)?;
        Ok(HttpResponse {
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
        })
    }
}
