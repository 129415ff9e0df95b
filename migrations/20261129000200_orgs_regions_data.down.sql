DELETE FROM regions WHERE code LIKE '42%';
