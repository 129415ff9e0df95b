DROP TABLE attendance_changes;
DROP TABLE attendance;
DROP FUNCTION attendance_within_course();
DROP TABLE plan_waitlist;
DROP TABLE enrolments;
DROP FUNCTION enrolments_count();
DROP TABLE classes;
-- btree_gist stays: other schemas may use it and dropping it gains nothing.
