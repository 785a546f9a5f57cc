-- PostgreSQL twin of migrations/sqlite/0001_init.sql: same tables, columns and
-- constraints (INTEGER → BIGINT, BLOB → BYTEA); the `schema` test keeps them equal.

-- Passkey ceremonies in flight: single-use, expiring, never kept in process memory.
CREATE TABLE ceremonies (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('registration', 'signing')),
    site_id     TEXT NOT NULL,
    state       TEXT NOT NULL,   -- webauthn-rs ceremony state (JSON)
    context     TEXT NOT NULL,   -- what the ceremony is for (JSON)
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX ceremonies_expires_at ON ceremonies (expires_at);

-- People who created a passkey, bound to the email address they gave.
CREATE TABLE requesters (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY,          -- base64url
    requester_id  TEXT NOT NULL REFERENCES requesters (id),
    passkey       TEXT NOT NULL,             -- webauthn-rs Passkey (JSON, public key and counter)
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);

-- Signed requests. `document` holds exactly the canonical bytes whose SHA-256 is `digest`;
-- the WebAuthn fields are kept raw so the signature can be re-verified by anyone.
CREATE TABLE submissions (
    request_number      TEXT PRIMARY KEY,
    ceremony_id         TEXT NOT NULL UNIQUE,
    site_id             TEXT NOT NULL,
    requester_id        TEXT NOT NULL REFERENCES requesters (id),
    credential_id       TEXT NOT NULL REFERENCES passkeys (credential_id),
    document            TEXT NOT NULL,
    digest              TEXT NOT NULL,
    nonce               TEXT NOT NULL,
    client_data_json    BYTEA NOT NULL,
    authenticator_data  BYTEA NOT NULL,
    signature           BYTEA NOT NULL,
    user_verified       BIGINT NOT NULL,
    received_at         BIGINT NOT NULL   -- unix seconds, UTC; the legal clock starts here
);
CREATE INDEX submissions_received_at ON submissions (received_at);
