DROP FUNCTION claims_analyze_eligibility();
DROP STATISTICS claim_eligibility_city;
DROP INDEX claim_eligibility_open_city;
DROP INDEX claim_eligibility_open_id;
DROP INDEX claims_region_id;
DROP INDEX claims_city_status_id;
