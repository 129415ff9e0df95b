DROP TRIGGER institutions_region_moves_workers ON institutions;
DROP FUNCTION institutions_move_workers();
DROP TABLE workers;
DROP FUNCTION workers_set_region();
