-- The deadline terms a request was received under: its site's `deadline_days`
-- and `time_zone` at receipt. A later configuration change does not move the
-- due dates of requests already received. NULL (requests received before this
-- migration): the site's current settings.
ALTER TABLE submissions ADD COLUMN deadline_days BIGINT;
ALTER TABLE submissions ADD COLUMN time_zone TEXT;
