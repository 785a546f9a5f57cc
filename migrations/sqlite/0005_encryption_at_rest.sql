-- Encryption at rest (verifier/src/vault.rs): personal data columns now hold
-- `rp1:<key id>:<base64url>` AES-256-GCM envelopes instead of clear text:
-- submissions.document, submission_evidence.client_ip and .user_agent,
-- requesters.email, email_verifications.email, ceremonies.context and
-- request_events.text. Their types are unchanged (TEXT).

-- Keyed blind index of patient names: HMAC-SHA256 of each normalised word of
-- the name under a key derived from the data key, so staff can find a patient
-- by name without the name being stored in clear.
CREATE TABLE patient_name_tokens (
    request_number  TEXT NOT NULL REFERENCES submissions (request_number),
    token           TEXT NOT NULL,
    PRIMARY KEY (request_number, token)
);
CREATE INDEX patient_name_tokens_token ON patient_name_tokens (token);
