-- An admin's password reset makes the user choose a new password at their
-- next login (issue 15); sessions also end 12 hours after they began, so
-- the purge looks them up by creation time too.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
CREATE INDEX sessions_created_idx ON sessions (created_at);
