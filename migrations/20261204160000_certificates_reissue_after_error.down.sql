DROP INDEX certificates_enrolment_key;
ALTER TABLE certificates ADD CONSTRAINT certificates_enrolment_key UNIQUE (enrolment_id);
