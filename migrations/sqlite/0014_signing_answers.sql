-- A signing ceremony answered with the submission an earlier ceremony stored
-- under the same idempotency key (the first answer was lost, the requester
-- signed again): a retry of this ceremony's finish, with the same assertion,
-- gets that answer again. Kept an hour, then purged with the transient state.
CREATE TABLE signing_answers (
    ceremony_id      TEXT PRIMARY KEY,
    request_number   TEXT NOT NULL REFERENCES submissions (request_number),
    signature_sha256 TEXT NOT NULL,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX signing_answers_expires_at ON signing_answers (expires_at);
CREATE INDEX signing_answers_request_number ON signing_answers (request_number);
