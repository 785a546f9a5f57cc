-- The client's idempotency key (StartSigning.idempotency_key): a second
-- signature of the same request with the same key returns the first
-- submission instead of storing another.
ALTER TABLE submissions ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX submissions_idempotency_key
    ON submissions (requester_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
