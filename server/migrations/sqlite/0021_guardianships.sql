-- Guardianships (issue 14): a child under 14 uses a guardian's account (Decree 59/2022
-- article 11). While one is live (not ended, `ends_at` ahead: the 14th birthday or the end
-- date recorded, whichever comes first), the child's documents are in the guardian's
-- inbox and are issued to the guardian's keys with a `representation` claim naming the
-- guardian; their `exp` is `ends_at`, and ending it early revokes them.
CREATE TABLE guardianships (
    id                   TEXT PRIMARY KEY,
    guardian_citizen_id  TEXT NOT NULL,
    child_citizen_id     TEXT NOT NULL,
    ends_at              BIGINT NOT NULL,
    ended_at             BIGINT,
    recorded_by          TEXT NOT NULL REFERENCES agencies(id),
    created_at           BIGINT NOT NULL
);
CREATE INDEX guardianships_guardian ON guardianships (guardian_citizen_id);
CREATE INDEX guardianships_child ON guardianships (child_citizen_id);

-- The guardianship a credential was issued under (NULL: to the subject's own wallet).
ALTER TABLE credentials ADD COLUMN guardianship_id TEXT;
CREATE INDEX credentials_guardianship ON credentials (guardianship_id);
