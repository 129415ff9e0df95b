DROP TABLE calendar_version;
DROP TABLE calendar_days;
