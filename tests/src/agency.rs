//! The agencies' side: the documents of the journey's citizens, and the issuer API calls
//! (publish one, bulk NDJSON, revoke, suspend, read) with the offers they return.

use serde_json::{Value, json};

use crate::HarnessError;
use crate::server::Server;

/// Which demo agency issues each catalogue document type.
pub const ISSUER_OF: [(&str, &str); 6] = [
    ("can_cuoc", "police"),
    ("driving_licence", "police"),
    ("vehicle_registration", "police"),
    ("judicial_record", "justice"),
    ("health_insurance_card", "social-insurance"),
    ("health_book", "social-insurance"),
];

/// The agency that issues catalogue type `type_id`.
pub fn issuer_of(type_id: &str) -> Result<&'static str, HarnessError> {
    ISSUER_OF
        .iter()
        .find(|(t, _)| *t == type_id)
        .map(|(_, a)| *a)
        .ok_or_else(|| HarnessError::Unexpected(format!("no agency issues {type_id}")))
}

/// A document an agency publishes.
#[derive(Debug, Clone)]
pub struct Document {
    /// The agency.
    pub agency: &'static str,
    /// The catalogue type id.
    pub type_id: &'static str,
    /// The publish request body.
    pub request: Value,
}

impl Document {
    /// The agency's own document id.
    pub fn document_id(&self) -> &str {
        self.request["document_id"].as_str().unwrap_or_default()
    }
}

/// The document of type `type_id` for the citizen with 12-digit `citizen_id`: the
/// catalogue's example claims, with the citizen's number where the type carries one.
pub fn document(
    type_id: &'static str,
    citizen_id: &str,
    document_id: &str,
) -> Result<Document, HarnessError> {
    let t = giayto_core::catalogue::by_id(type_id)
        .ok_or_else(|| HarnessError::Unexpected(format!("unknown type {type_id}")))?;
    let mut claims = giayto_core::catalogue::examples::example_claims(type_id)
        .ok_or_else(|| HarnessError::Unexpected(format!("no example for {type_id}")))?;
    if let Some(id) = claims.get_mut("personal_id") {
        *id = json!(citizen_id);
    }
    Ok(Document {
        agency: issuer_of(type_id)?,
        type_id,
        request: json!({
            "document_id": document_id,
            "citizen_id": citizen_id,
            "vct": t.vct,
            "claims": claims,
        }),
    })
}

/// Every document type for each citizen: `citizens.len() * 6` documents.
pub fn documents_for(citizens: &[&str]) -> Result<Vec<Document>, HarnessError> {
    let mut out = Vec::new();
    for citizen in citizens {
        for (type_id, _) in ISSUER_OF {
            out.push(document(type_id, citizen, &format!("{type_id}-{citizen}"))?)
        }
    }
    Ok(out)
}

/// A credential offer as the agency hands it to the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// `openid-credential-offer://?credential_offer_uri=...`.
    pub uri: String,
    /// The transaction code, told to the citizen through another channel.
    pub tx_code: String,
}

impl Offer {
    /// Reads the `offer` object of a publish response or bulk result line.
    pub fn from_json(offer: &Value) -> Result<Offer, HarnessError> {
        let field = |name: &str| {
            offer[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| HarnessError::Unexpected(format!("offer without {name}: {offer}")))
        };
        Ok(Offer {
            uri: field("offer_uri_by_reference")?,
            tx_code: field("tx_code")?,
        })
    }
}

/// Publishes one document; returns the HTTP status (201 or 200) and its offer.
pub fn publish(server: &Server, doc: &Document) -> Result<(u16, Offer), HarnessError> {
    let url = server.url("/api/v1/documents");
    let reply = server
        .client
        .post_json(&url, Some(server.api_key(doc.agency)?), &doc.request)?;
    let reply = if reply.status == 200 {
        reply
    } else {
        reply.expect(&url, 201)?
    };
    let status = reply.status;
    Ok((status, Offer::from_json(&reply.json()?["offer"])?))
}

/// One NDJSON body holding `docs` (all of one agency).
pub fn ndjson(docs: &[Document]) -> Vec<u8> {
    let mut body = Vec::new();
    for d in docs {
        body.extend_from_slice(d.request.to_string().as_bytes());
        body.push(b'\n');
    }
    body
}

/// Bulk-publishes an NDJSON body as `agency`; returns the result lines.
pub fn bulk(server: &Server, agency: &str, body: &[u8]) -> Result<Vec<Value>, HarnessError> {
    let url = server.url("/api/v1/bulk/documents");
    let reply = server
        .client
        .post(
            &url,
            Some(server.api_key(agency)?),
            "application/x-ndjson",
            body,
        )?
        .expect(&url, 200)?;
    parse_ndjson(&reply.text()?)
}

/// Parses NDJSON result lines.
pub fn parse_ndjson(text: &str) -> Result<Vec<Value>, HarnessError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| HarnessError::Unexpected(format!("bulk line {l}: {e}")))
        })
        .collect()
}

/// `POST /api/v1/documents/{id}/{action}` (`revoke`, `suspend`, `reinstate`).
pub fn change(
    server: &Server,
    agency: &str,
    document_id: &str,
    action: &str,
) -> Result<Value, HarnessError> {
    let url = server.url(&format!("/api/v1/documents/{document_id}/{action}"));
    server
        .client
        .post_json(&url, Some(server.api_key(agency)?), &json!({}))?
        .expect(&url, 200)?
        .json()
}

/// `GET /api/v1/documents/{id}`: the document as its agency sees it.
pub fn read(server: &Server, agency: &str, document_id: &str) -> Result<Value, HarnessError> {
    let url = server.url(&format!("/api/v1/documents/{document_id}"));
    server
        .client
        .get(&url, Some(server.api_key(agency)?))?
        .expect(&url, 200)?
        .json()
}
