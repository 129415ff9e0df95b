ALTER TABLE plan_waitlist DROP CONSTRAINT IF EXISTS plan_waitlist_roster_import_fk;
ALTER TABLE enrolments DROP CONSTRAINT IF EXISTS enrolments_roster_import_fk;
