-- An access token covers each credential configuration of its offer once: the full
-- credential and each purpose type (issue 11), one credential request each. A row per use;
-- removed with the token when it expires.
CREATE TABLE token_uses (
    token_hash        TEXT NOT NULL,
    configuration_id  TEXT NOT NULL,
    used_at           BIGINT NOT NULL,
    PRIMARY KEY (token_hash, configuration_id)
);

-- OAuth refresh tokens (RFC 6749 section 6) of redeemed offers, so a wallet refills its
-- purpose credentials without the citizen: stored as keyed hashes only, rotated on each
-- use (the old row goes when the new one is made), refused once the document is revoked,
-- suspended or re-issued.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    offer_id    TEXT NOT NULL REFERENCES offers(id),
    expires_at  BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
