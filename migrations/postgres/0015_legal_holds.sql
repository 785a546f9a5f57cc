-- PostgreSQL twin of migrations/sqlite/0015_legal_holds.sql.
-- Legal holds: while a signed request has a row here, no purge removes it or
-- anything that hangs off it (`recordpass-verifier hold add / remove / list`).
-- `reason` is sealed (vault field `legal_holds.reason`, row: request number):
-- a matter reference may name people.
CREATE TABLE legal_holds (
    request_number TEXT PRIMARY KEY REFERENCES submissions (request_number),
    reason         TEXT NOT NULL,
    placed_by      TEXT NOT NULL,
    placed_at      BIGINT NOT NULL
);
