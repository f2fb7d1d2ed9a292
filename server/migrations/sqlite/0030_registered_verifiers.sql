-- OpenID4VP relying parties on the trust list: the verifier registrars' CA certificates
-- (trust anchors of the request objects' x5c chains) and the registered verifiers with
-- their names and what each may request (issue 15).
CREATE TABLE verifier_anchors (
    id TEXT PRIMARY KEY,          -- x509_hash of the DER certificate (base64url SHA-256)
    certificate TEXT NOT NULL,    -- base64 (standard) DER
    subject TEXT NOT NULL,        -- for operators
    added_at BIGINT NOT NULL
);

CREATE TABLE registered_verifiers (
    client_id TEXT PRIMARY KEY,   -- x509_hash:<base64url SHA-256 of the DER leaf>
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    may_request TEXT NOT NULL,    -- JSON: [{"vct", "claims": [[path...]]}]
    added_at BIGINT NOT NULL
);
