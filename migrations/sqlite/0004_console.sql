-- HIM staff console: staff, passkeys, sessions, request workflow and the audit trail.

CREATE TABLE staff (
    id          TEXT PRIMARY KEY,              -- random UUID, also the WebAuthn user handle
    email       TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'specialist', 'auditor')),
    created_at  INTEGER NOT NULL,
    disabled_at INTEGER
);

-- One-time enrolment links; only SHA-256 of the token is kept.
CREATE TABLE staff_invites (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'specialist', 'auditor')),
    invited_by  TEXT NOT NULL,                 -- staff email, or 'cli'
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE staff_passkeys (
    credential_id TEXT PRIMARY KEY,            -- base64url
    staff_id      TEXT NOT NULL REFERENCES staff (id),
    passkey       TEXT NOT NULL,               -- webauthn-rs Passkey (JSON)
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);

-- Staff passkey ceremonies (enrol, sign-in): single-use, expiring.
CREATE TABLE staff_ceremonies (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('enrol', 'sign_in')),
    state       TEXT NOT NULL,
    context     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- Sessions; only SHA-256 of the cookie value is kept.
CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY,
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);

-- Workflow state of a submission; no row means "received".
CREATE TABLE request_state (
    request_number      TEXT PRIMARY KEY REFERENCES submissions (request_number),
    status              TEXT NOT NULL CHECK (status IN
                          ('received', 'in_review', 'needs_information', 'fulfilled', 'denied', 'withdrawn')),
    extension_days      INTEGER,
    identity_matched_at INTEGER,
    identity_matched_by TEXT,
    updated_at          INTEGER NOT NULL
);

-- Timeline entries: status changes, the extension, identity matching, internal notes.
CREATE TABLE request_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    request_number  TEXT NOT NULL REFERENCES submissions (request_number),
    at              INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('status', 'extension', 'identity', 'note')),
    status          TEXT,
    text            TEXT NOT NULL
);
CREATE INDEX request_events_number ON request_events (request_number, id);

-- Append-only, hash-chained audit trail: hash = SHA-256(prev_hash ‖ event), hex.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    prev_hash  TEXT NOT NULL,
    event      TEXT NOT NULL,                  -- RFC 8785 canonical JSON
    hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
