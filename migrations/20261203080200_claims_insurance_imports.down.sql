DROP TABLE insurance_imports;
