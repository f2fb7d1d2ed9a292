-- Citizen accounts (issue 14, docs/ARCHITECTURE.md "Citizen account"). An account is a
-- citizen's wallet key (the RFC 7638 thumbprint `jkt` of the DPoP key that redeemed the
-- activation offer); at most one is active per citizen. A closed account stays for the
-- history (`closed_reason`: replaced by a new activation, or deactivated at a counter).
CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    citizen_id     TEXT NOT NULL,
    state          TEXT NOT NULL,           -- active | closed
    jkt            TEXT NOT NULL,
    public_jwk     TEXT NOT NULL,
    activated_by   TEXT NOT NULL REFERENCES agencies(id),
    created_at     BIGINT NOT NULL,
    closed_at      BIGINT,
    closed_reason  TEXT                     -- replaced | deactivated
);
CREATE UNIQUE INDEX accounts_one_active ON accounts (citizen_id) WHERE state = 'active';

-- The offers that activate an account when redeemed (an ordinary ID-card offer: single
-- use, expiring, tx_code tries counted and burnt like every offer).
CREATE TABLE account_activations (
    offer_id    TEXT PRIMARY KEY REFERENCES offers(id),
    citizen_id  TEXT NOT NULL,
    agency_id   TEXT NOT NULL REFERENCES agencies(id),
    created_at  BIGINT NOT NULL
);

-- DPoP-bound access and refresh tokens of accounts (RFC 9449 section 5), as keyed hashes.
-- A refresh token (expires_at NULL) lives as long as its account.
CREATE TABLE account_tokens (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    kind        TEXT NOT NULL,              -- access | refresh
    expires_at  BIGINT
);
CREATE INDEX account_tokens_account ON account_tokens (account_id);

-- DPoP proof ids seen (RFC 9449 section 11.1), hashed, until the proof's window ends.
CREATE TABLE dpop_proofs (
    jti_hash    TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_at);

-- The account a credential was issued to (NULL: by a per-document offer), so closing the
-- account revokes exactly what its phone holds.
ALTER TABLE credentials ADD COLUMN account_id TEXT;
CREATE INDEX credentials_account ON credentials (account_id);
CREATE INDEX documents_citizen ON documents (citizen_id);
