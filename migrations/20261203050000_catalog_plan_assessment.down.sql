ALTER TABLE plans DROP COLUMN assessment;
