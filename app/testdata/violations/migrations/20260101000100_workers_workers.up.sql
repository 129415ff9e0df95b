CREATE TABLE workers (id bigint);
