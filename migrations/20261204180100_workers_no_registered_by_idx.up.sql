-- No list or look-up of the application reads workers by the organisation
-- that registered them (the scale seed's ranges do, once per step, and an
-- organisation's rare deletion checks for its workers), yet every roster
-- commit wrote this index for each graduate.
DROP INDEX workers_registered_by_idx;
