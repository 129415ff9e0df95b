-- Enrolments and plan waiting-list entries made by a roster name the import
-- they came from; now that roster_imports exists, the link is a real key.
ALTER TABLE enrolments ADD CONSTRAINT enrolments_roster_import_fk
    FOREIGN KEY (roster_import_id) REFERENCES roster_imports (id);
ALTER TABLE plan_waitlist ADD CONSTRAINT plan_waitlist_roster_import_fk
    FOREIGN KEY (roster_import_id) REFERENCES roster_imports (id);
