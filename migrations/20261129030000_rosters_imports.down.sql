DROP TABLE roster_rows;
DROP TABLE roster_imports;
