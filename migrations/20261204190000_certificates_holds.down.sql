DROP TABLE certificate_holds;
