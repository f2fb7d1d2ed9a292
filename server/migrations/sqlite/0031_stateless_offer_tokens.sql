-- Issue 17: an issuance makes one durable commit and as few round trips as it can.
--
-- Access and refresh tokens of an offer are stateless (MAC'd, like c_nonce: see
-- server/src/domain/offer_tokens.rs): nothing is written when they are handed out. An
-- offer's token_generation is bumped by the redemption and by each refresh, in the same
-- UPDATE; a refresh token carries the generation it was made at, so it works once (single
-- use and rotation, RFC 6749 section 6), and an access token is honoured only while its
-- offer is redeemed at its generation or a later one. Tokens made before this migration
-- (random, stored as keyed hashes) are no longer honoured: a wallet redeems a new offer.
ALTER TABLE offers ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;
DROP TABLE token_uses;
DROP TABLE access_tokens;
DROP TABLE refresh_tokens;

-- What may be used once, until it expires: c_nonce values (their own text) and the use of
-- an access token for one credential configuration ("t.<offer id>.<generation>.<configuration>").
-- One multi-row INSERT ... ON CONFLICT DO NOTHING records all of a request's at once.
CREATE TABLE single_uses (
    id          TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX single_uses_expiry ON single_uses (expires_at);
INSERT INTO single_uses (id, expires_at) SELECT nonce, expires_at FROM used_nonces;
DROP TABLE used_nonces;

-- The per-document bound on credentials (MAX_CREDENTIALS_PER_WINDOW) as a fixed window
-- kept on the document row, so the issuing UPDATE checks it with the row lock it takes:
-- the window starts at the first issuance after the last one ended. Carried over from the
-- credentials of the last 30 days.
ALTER TABLE documents ADD COLUMN credentials_window_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN credentials_in_window BIGINT NOT NULL DEFAULT 0;
UPDATE documents SET
    credentials_window_start = COALESCE((SELECT MIN(c.issued_at) FROM credentials c
        WHERE c.document_id = documents.id AND c.issued_at > CAST(strftime('%s', 'now') AS BIGINT) - 2592000), 0),
    credentials_in_window = (SELECT COUNT(*) FROM credentials c
        WHERE c.document_id = documents.id AND c.issued_at > CAST(strftime('%s', 'now') AS BIGINT) - 2592000);
