-- A certificate revoked as issued in error (a pass corrected to fail) no
-- longer stands for its enrolment: when the result is corrected back to a
-- pass, the enrolment gets a new certificate with a new number, and the
-- old one keeps answering "revoked" at its verify code. Every other
-- certificate stays one per enrolment (a fraud or ban revocation is final).
ALTER TABLE certificates DROP CONSTRAINT certificates_enrolment_key;
CREATE UNIQUE INDEX certificates_enrolment_key ON certificates (enrolment_id)
    WHERE NOT (status = 'revoked' AND revoke_reason = 'issued_in_error');
