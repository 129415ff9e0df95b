-- add_only imports show a row whose person is already on file as 'exists'
-- (已存在，跳过) with the stored values, rather than as 'unchanged' with the
-- file's values, which suggested the file's values were on file.
ALTER TABLE roster_rows DROP CONSTRAINT roster_rows_outcome_check;
ALTER TABLE roster_rows ADD CONSTRAINT roster_rows_outcome_check
    CHECK (outcome IN ('new', 'changed', 'unchanged', 'exists', 'invalid'));
