UPDATE roster_rows SET outcome = 'unchanged' WHERE outcome = 'exists';
ALTER TABLE roster_rows DROP CONSTRAINT roster_rows_outcome_check;
ALTER TABLE roster_rows ADD CONSTRAINT roster_rows_outcome_check
    CHECK (outcome IN ('new', 'changed', 'unchanged', 'invalid'));
