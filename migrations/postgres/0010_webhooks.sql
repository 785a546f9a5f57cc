-- PostgreSQL twin of migrations/sqlite/0010_webhooks.sql.
-- Outgoing webhooks: a durable outbox. One delivery per (event, endpoint) is
-- inserted in the same transaction as the change it reports, so nothing
-- committed goes unreported and nothing rolled back is sent. Payloads carry
-- no patient name, date of birth or email (docs/operations.md, "Webhooks").
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,          -- random, per (event, endpoint)
    event_id        TEXT NOT NULL,             -- the payload's id and Idempotency-Key
    event_type      TEXT NOT NULL,
    request_number  TEXT NOT NULL,
    endpoint        TEXT NOT NULL,             -- the configured URL
    payload         TEXT NOT NULL,             -- the exact JSON body sent
    created_at      BIGINT NOT NULL,          -- unix seconds
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,          -- unix milliseconds
    lease_until_ms  BIGINT,                   -- an instance is sending it until then
    last_status     BIGINT,                   -- HTTP status of the last answer
    last_error      TEXT,                      -- error class of the last attempt
    finished_at     BIGINT                    -- delivered or given up (unix seconds)
);
CREATE UNIQUE INDEX webhook_deliveries_event_endpoint ON webhook_deliveries (event_id, endpoint);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms);
CREATE INDEX webhook_deliveries_request ON webhook_deliveries (request_number);

-- Every attempt: when, how long, and the status code or error class (never a
-- response body).
CREATE TABLE webhook_attempts (
    id          TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at_ms       BIGINT NOT NULL,
    status_code BIGINT,
    error       TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at_ms);
