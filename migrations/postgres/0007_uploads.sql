-- PostgreSQL twin of migrations/sqlite/0007_uploads.sql.
-- Proof-of-authority files (PDF, JPEG, PNG) uploaded by legal representatives and
-- executors. The bytes and the file name are sealed (verifier/src/vault.rs, AAD
-- `recordpass:uploads.content:<id>` and `recordpass:uploads.name:<id>`); the type,
-- size and SHA-256 of the clear bytes stay readable so that signing can match the
-- document's attachments to stored files. Unclaimed uploads (request_number NULL)
-- are deleted at expires_at; claimed ones live and are purged with their request.
CREATE TABLE uploads (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    media_type      TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size            BIGINT NOT NULL,
    name            TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    request_number  TEXT REFERENCES submissions (request_number)
);
CREATE INDEX uploads_unclaimed ON uploads (sha256) WHERE request_number IS NULL;
CREATE INDEX uploads_request_number ON uploads (request_number);
