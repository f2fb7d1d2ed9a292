//! The HTTP seam: the app performs requests with its own network stack (OkHttp, Ktor,
//! URLSession, java.net.http, aiohttp) through the foreign [`HttpClient`] trait, which is
//! async: Kotlin implements a `suspend fun`, Swift an `async throws func`, Python an
//! `async def`. Rust only builds requests and reads responses.

use giayto_core::oid4vci::{self, Method};

use crate::GiaytoError;

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Field name.
    pub name: String,
    /// Field value.
    pub value: String,
}

/// A request the app must perform and answer with an [`HttpResponse`].
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The absolute URL (https, or http on a loopback host).
    pub url: String,
    /// Header fields to send, in order. May hold an `Authorization` access token: never log it.
    pub headers: Vec<HttpHeader>,
    /// The body; empty for none.
    pub body: Vec<u8>,
}

/// Bodies and the `Authorization` header carry codes and tokens: `Debug` shows neither.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// What the server answered.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header fields as received.
    pub headers: Vec<HttpHeader>,
    /// The body. The app may stop reading after 4 MiB (a status list token's limit; 1 MiB
    /// for OpenID4VCI responses): larger bodies are refused anyway.
    pub body: Vec<u8>,
}

/// Bodies carry access tokens and credentials: `Debug` shows only their length.
impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The app's HTTP stack. Implement `send` with the platform's asynchronous client
/// (OkHttp's `enqueue` or Ktor in a `suspend fun`, URLSession's `data(for:)`, aiohttp);
/// throw `GiaytoException.Network` (Kotlin) / `GiaytoError.Network` (Swift, Python) when the
/// request cannot be made. A non-2xx answer is not an error here: return it.
///
/// Cancellation: when the giayto call that is waiting for `send` is cancelled (its
/// coroutine, Swift task or asyncio task), UniFFI cancels the coroutine / task running
/// `send`; let that cancel the request (OkHttp `Call.cancel`, URLSession does it itself).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait HttpClient: Send + Sync {
    /// Performs one request.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, GiaytoError>;
}

impl From<oid4vci::HttpRequest> for HttpRequest {
    fn from(r: oid4vci::HttpRequest) -> Self {
        HttpRequest {
            method: r.method.as_str().to_owned(),
            url: r.url,
            headers: r
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: r.body.unwrap_or_default(),
        }
    }
}

impl From<HttpResponse> for oid4vci::HttpResponse {
    fn from(r: HttpResponse) -> Self {
        oid4vci::HttpResponse {
            status: r.status,
            headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            body: r.body,
        }
    }
}

/// Sends a core request through the app's client.
pub(crate) async fn send(
    http: &dyn HttpClient,
    request: oid4vci::HttpRequest,
) -> Result<oid4vci::HttpResponse, GiaytoError> {
    Ok(http.send(request.into()).await?.into())
}

/// GETs `url` accepting `accept`, and returns the body of a 2xx answer of at most `limit`
/// bytes (the input kind's limit from `giayto_core::limits`, the same on every path).
pub(crate) async fn get_body(
    http: &dyn HttpClient,
    url: &str,
    accept: &str,
    limit: usize,
) -> Result<Vec<u8>, GiaytoError> {
    let response = http
        .send(HttpRequest {
            method: Method::Get.as_str().to_owned(),
            url: url.to_owned(),
            headers: vec![HttpHeader {
                name: "Accept".into(),
                value: accept.into(),
            }],
            body: Vec::new(),
        })
        .await?;
    if !(200..300).contains(&response.status) {
        return Err(GiaytoError::Network {
            reason: format!("GET {url} answered HTTP {}", response.status),
        });
    }
    if response.body.len() > limit {
        return Err(GiaytoError::Network {
            reason: format!(
                "GET {url} answered {} bytes: too large (limit {limit})",
                response.body.len()
            ),
        });
    }
    Ok(response.body)
}
