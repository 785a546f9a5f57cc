-- Passkey ceremonies in flight: single-use, expiring, never kept in process memory.
CREATE TABLE ceremonies (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('registration', 'signing')),
    site_id     TEXT NOT NULL,
    state       TEXT NOT NULL,   -- webauthn-rs ceremony state (JSON)
    context     TEXT NOT NULL,   -- what the ceremony is for (JSON)
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX ceremonies_expires_at ON ceremonies (expires_at);

-- People who created a passkey, bound to the email address they gave.
CREATE TABLE requesters (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY,          -- base64url
    requester_id  TEXT NOT NULL REFERENCES requesters (id),
    passkey       TEXT NOT NULL,             -- webauthn-rs Passkey (JSON, public key and counter)
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
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
    client_data_json    BLOB NOT NULL,
    authenticator_data  BLOB NOT NULL,
    signature           BLOB NOT NULL,
    user_verified       INTEGER NOT NULL,
    received_at         INTEGER NOT NULL   -- unix seconds, UTC; the legal clock starts here
);
CREATE INDEX submissions_received_at ON submissions (received_at);
