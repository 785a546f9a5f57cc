-- A requester's passkeys and sessions found by requester: the retention purge
-- looks for requesters idle with nothing signed and deletes what is theirs
-- (verifier/src/retention.rs), which otherwise scans both tables per requester.
CREATE INDEX passkeys_requester_id ON passkeys (requester_id);
CREATE INDEX requester_sessions_requester_id ON requester_sessions (requester_id);
