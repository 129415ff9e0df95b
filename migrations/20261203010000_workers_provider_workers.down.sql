DROP TABLE provider_workers;
