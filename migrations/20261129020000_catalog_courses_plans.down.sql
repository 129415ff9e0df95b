DROP TABLE plan_version_minimums;
DROP TABLE plan_version_courses;
DROP FUNCTION plan_version_courses_within_course();
ALTER TABLE plans DROP CONSTRAINT plans_current_version_fk;
DROP TABLE plan_versions;
DROP TABLE plans;
DROP TABLE courses;
