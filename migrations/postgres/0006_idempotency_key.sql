-- PostgreSQL twin of migrations/sqlite/0006_idempotency_key.sql: the client's
-- idempotency key, unique per requester.
ALTER TABLE submissions ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX submissions_idempotency_key
    ON submissions (requester_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
