-- PostgreSQL twin of migrations/sqlite/0002_evidence.sql.

-- Evidence captured when a request is signed, beyond the raw assertion kept in
-- `submissions`: written in the same transaction, one row per submission.
CREATE TABLE submission_evidence (
    request_number    TEXT PRIMARY KEY REFERENCES submissions (request_number),
    client_ip         TEXT,               -- peer address (or trusted X-Forwarded-For)
    user_agent        TEXT,               -- at most 512 characters
    public_key_cose   BYTEA NOT NULL,     -- credential public key, COSE_Key (CBOR)
    aaguid            TEXT,               -- authenticator model, when attested
    flags             BIGINT NOT NULL,    -- authenticatorData byte 32 (UP, UV, BE, BS)
    sign_count        BIGINT NOT NULL,    -- authenticatorData bytes 33..37
    verifier_version  TEXT NOT NULL
);

-- The Ed25519 key that seals evidence bundles when no `seal_key_file` is
-- configured (demo convenience; production keeps the key in a file).
CREATE TABLE seal_keys (
    key_id      TEXT PRIMARY KEY,         -- first 16 hex of SHA-256(SPKI DER)
    private_key TEXT NOT NULL,            -- PKCS#8 PEM
    created_at  BIGINT NOT NULL
);
