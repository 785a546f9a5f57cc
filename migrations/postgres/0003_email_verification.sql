-- PostgreSQL twin of migrations/sqlite/0003_email_verification.sql.

-- Email verification before a passkey is created: one row per code sent.
-- The code is kept only as HMAC-SHA256(server key, id ‖ code); the token that
-- proves the address only as SHA-256(token). Rows are deleted when the token is
-- used (the time moves to requesters.email_verified_at) or once both expire.
CREATE TABLE email_verifications (
    id                TEXT PRIMARY KEY,        -- random 256-bit, handed to the client
    site_id           TEXT NOT NULL,
    email             TEXT NOT NULL,           -- normalised address the code was sent to
    code_hash         BYTEA NOT NULL,
    attempts_left     BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,         -- code expiry
    verified_at       BIGINT,                  -- when the right code was entered
    token_hash        BYTEA UNIQUE,            -- set once verified
    token_expires_at  BIGINT
);
CREATE INDEX email_verifications_expires_at ON email_verifications (expires_at);

-- When the requester proved control of their email address (unix seconds, UTC).
ALTER TABLE requesters ADD COLUMN email_verified_at BIGINT;

-- Rate-limit events shared by every verifier instance. `bucket` names what is
-- limited with a hash (e.g. of an address), never the address itself.
CREATE TABLE rate_limit_events (
    bucket  TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX rate_limit_events_bucket_at ON rate_limit_events (bucket, at);
