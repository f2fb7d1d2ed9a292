-- An access token covers each credential configuration of its offer once: the full
-- credential and each purpose type (issue 11), one credential request each. A row per use;
-- removed with the token when it expires.
CREATE TABLE token_uses (
    token_hash        TEXT NOT NULL,
    configuration_id  TEXT NOT NULL,
    used_at           BIGINT NOT NULL,
    PRIMARY KEY (token_hash, configuration_id)
);
