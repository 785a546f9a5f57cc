-- PostgreSQL twin of migrations/sqlite/0005_encryption_at_rest.sql.
-- Personal data columns hold `rp1:<key id>:<base64url>` AES-256-GCM envelopes
-- (verifier/src/vault.rs); their types are unchanged (TEXT).

-- Keyed blind index of patient names (HMAC-SHA256 of each normalised word).
CREATE TABLE patient_name_tokens (
    request_number  TEXT NOT NULL REFERENCES submissions (request_number),
    token           TEXT NOT NULL,
    PRIMARY KEY (request_number, token)
);
CREATE INDEX patient_name_tokens_token ON patient_name_tokens (token);
