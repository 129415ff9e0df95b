DROP INDEX sessions_created_idx;
ALTER TABLE users DROP COLUMN must_change_password;
