-- Which assessment a plan ends in (DESIGN §7): none (the certificate follows
-- completion), theory, or theory and practical. Pass mark and attempts stay
-- on plan_versions, where enrolments already freeze them.
ALTER TABLE plans ADD COLUMN assessment text NOT NULL DEFAULT 'theory_practical'
    CONSTRAINT plans_assessment CHECK (assessment IN ('none', 'theory', 'theory_practical'));
UPDATE plans SET assessment = 'none' WHERE code = 'BYS-ZG';
UPDATE plans SET assessment = 'theory' WHERE code = 'FZR-GW';
