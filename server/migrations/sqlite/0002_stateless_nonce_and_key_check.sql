-- c_nonce values are stateless (MAC'd tokens with an expiry): nothing is stored when one is
-- handed out. A nonce is remembered only once a credential was issued with it, until it
-- expires, so it cannot be used twice.
DROP TABLE nonces;
CREATE TABLE used_nonces (
    nonce       TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX used_nonces_expiry ON used_nonces (expires_at);

-- A keyed hash only the master key that set up this database reproduces: written at first
-- start, checked at every start, so a server never runs (or makes a new key) over material
-- wrapped by another master key.
CREATE TABLE master_key_check (
    id           BIGINT PRIMARY KEY,        -- always 1
    check_value  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
