//! giayto-server: the issuance side (issuer API, OpenID4VCI issuer, status lists); filled by the server issue.
