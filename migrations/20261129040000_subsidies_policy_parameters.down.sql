DROP TABLE policy_parameters;
DROP FUNCTION policy_parameters_append_only();
