-- Returning requesters: a discoverable-passkey sign-in ceremony kind and
-- short-lived requester sessions (bearer tokens, kept only as SHA-256).

-- SQLite cannot change a CHECK constraint in place: rebuild `ceremonies`
-- with 'sign_in' allowed (nothing references it; in-flight rows are kept).
CREATE TABLE ceremonies_new (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('registration', 'signing', 'sign_in')),
    site_id     TEXT NOT NULL,
    state       TEXT NOT NULL,   -- webauthn-rs ceremony state (JSON)
    context     TEXT NOT NULL,   -- what the ceremony is for (JSON)
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
INSERT INTO ceremonies_new (id, kind, site_id, state, context, created_at, expires_at)
    SELECT id, kind, site_id, state, context, created_at, expires_at FROM ceremonies;
DROP TABLE ceremonies;
ALTER TABLE ceremonies_new RENAME TO ceremonies;
CREATE INDEX ceremonies_expires_at ON ceremonies (expires_at);

-- A requester signed in with their passkey: `Authorization: Bearer <token>`.
-- Only SHA-256(token) is kept; idle and absolute timeouts are checked on use.
CREATE TABLE requester_sessions (
    token_hash    TEXT PRIMARY KEY,
    requester_id  TEXT NOT NULL REFERENCES requesters (id),
    site_id       TEXT NOT NULL,
    credential_id TEXT NOT NULL REFERENCES passkeys (credential_id),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX requester_sessions_last_seen_at ON requester_sessions (last_seen_at);
CREATE INDEX submissions_requester_id ON submissions (requester_id);
