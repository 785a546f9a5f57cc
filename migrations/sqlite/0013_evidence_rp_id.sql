-- The relying-party ID a submission was signed for, kept with its evidence:
-- bundles exported after the configured ID changes still show (and verify
-- against) the one the passkey signed with. NULL for submissions stored before
-- this column; the exporter then uses the configured ID.
ALTER TABLE submission_evidence ADD COLUMN rp_id TEXT;
