-- PostgreSQL twin of migrations/sqlite/0008_requester_sign_in.sql.
-- Returning requesters: a discoverable-passkey sign-in ceremony kind and
-- short-lived requester sessions (bearer tokens, kept only as SHA-256).

ALTER TABLE ceremonies DROP CONSTRAINT ceremonies_kind_check;
ALTER TABLE ceremonies ADD CONSTRAINT ceremonies_kind_check
    CHECK (kind IN ('registration', 'signing', 'sign_in'));

-- A requester signed in with their passkey: `Authorization: Bearer <token>`.
-- Only SHA-256(token) is kept; idle and absolute timeouts are checked on use.
CREATE TABLE requester_sessions (
    token_hash    TEXT PRIMARY KEY,
    requester_id  TEXT NOT NULL REFERENCES requesters (id),
    site_id       TEXT NOT NULL,
    credential_id TEXT NOT NULL REFERENCES passkeys (credential_id),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX requester_sessions_last_seen_at ON requester_sessions (last_seen_at);
CREATE INDEX submissions_requester_id ON submissions (requester_id);
