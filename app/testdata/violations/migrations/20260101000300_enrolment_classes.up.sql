CREATE TABLE classes (id bigint);
CREATE TABLE enrolments (id bigint);
