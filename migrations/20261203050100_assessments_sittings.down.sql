DROP TABLE calendar_feed_tokens;
DROP TABLE assessment_result_changes;
DROP TABLE assessment_results;
DROP TABLE assessment_examiners;
DROP TABLE assessment_candidates;
DROP TABLE assessment_sittings;
