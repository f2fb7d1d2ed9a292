-- When a status list's entries last changed (Unix seconds), bumped with `version`: the
-- `iat` of the list's next token and the `Last-Modified` of its HTTP representation
-- (issue 12). Existing lists start at their creation time.
ALTER TABLE status_lists ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE status_lists SET updated_at = created_at;
