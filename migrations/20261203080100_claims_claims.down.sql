DROP TABLE claim_eligibility;
DROP TABLE claims;
