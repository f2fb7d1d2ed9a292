-- giayto-server schema (SQLite). Times are Unix seconds; ids are random hex strings
-- made by the server, so the same SQL shape works on SQLite (see ../postgres).

CREATE TABLE agencies (
    id            TEXT PRIMARY KEY,
    name_vi       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    allowed_vcts  TEXT NOT NULL,            -- JSON array of vct strings
    created_at    BIGINT NOT NULL
);

-- Signing keys of agencies and of the trust anchor (agency_id IS NULL).
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,       -- RFC 7638 thumbprint
    agency_id       TEXT REFERENCES agencies(id),
    alg             TEXT NOT NULL,
    public_jwk      TEXT NOT NULL,
    wrapped_private BLOB NOT NULL,         -- AES-256-GCM under the master key
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT,                 -- NULL: the key that signs now
    published_until BIGINT                  -- retired keys stay in the JWKS until then
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (COALESCE(agency_id, '')) WHERE retired_at IS NULL;

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    agency_id   TEXT NOT NULL REFERENCES agencies(id),
    key_hash    TEXT NOT NULL UNIQUE,       -- HMAC-SHA256 under a key derived from the master key
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    agency_id    TEXT NOT NULL REFERENCES agencies(id),
    external_id  TEXT NOT NULL,             -- the agency's own document id
    citizen_id   TEXT NOT NULL,
    vct          TEXT NOT NULL,
    claims       TEXT NOT NULL,             -- JSON object
    content_hash TEXT NOT NULL,             -- SHA-256 of the canonical request, for idempotency
    state        TEXT NOT NULL,             -- valid | suspended | revoked
    valid_until  BIGINT,
    version      BIGINT NOT NULL,           -- bumped by each re-issue
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (agency_id, external_id)
);

CREATE TABLE offers (
    id              TEXT PRIMARY KEY,       -- random, also the by-reference URL path
    document_id     TEXT NOT NULL REFERENCES documents(id),
    doc_version     BIGINT NOT NULL,
    code_hash       TEXT NOT NULL UNIQUE,
    tx_code_hash    TEXT NOT NULL,
    tx_tries        BIGINT NOT NULL DEFAULT 0,
    state           TEXT NOT NULL,          -- open | redeemed | burnt | withdrawn
    secret_wrapped  BLOB,                  -- code + tx_code under the master key while open
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX offers_document ON offers (document_id);

CREATE TABLE access_tokens (
    token_hash   TEXT PRIMARY KEY,
    offer_id     TEXT NOT NULL REFERENCES offers(id),
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);

CREATE TABLE nonces (
    nonce       TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX nonces_expiry ON nonces (expires_at);

CREATE TABLE status_lists (
    id          TEXT PRIMARY KEY,
    agency_id   TEXT NOT NULL REFERENCES agencies(id),
    bits        BIGINT NOT NULL,
    size        BIGINT NOT NULL,
    is_full     BIGINT NOT NULL DEFAULT 0,
    version     BIGINT NOT NULL DEFAULT 0,   -- bumped with every status change in the list
    created_at  BIGINT NOT NULL
);
CREATE INDEX status_lists_open ON status_lists (agency_id, is_full);

CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    document_id  TEXT NOT NULL REFERENCES documents(id),
    doc_version  BIGINT NOT NULL,
    list_id      TEXT NOT NULL REFERENCES status_lists(id),
    idx          BIGINT NOT NULL,
    status       BIGINT NOT NULL,           -- 0 valid, 1 revoked, 2 suspended (Token Status List values)
    kid          TEXT NOT NULL,
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    UNIQUE (list_id, idx)
);
CREATE INDEX credentials_document ON credentials (document_id);
CREATE INDEX credentials_list_status ON credentials (list_id, status);

CREATE TABLE trust_lists (
    id          TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
