CREATE TABLE classes (id bigint);
