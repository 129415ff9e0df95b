DROP TABLE certificate_exports;
DROP TABLE certificates;
DROP TABLE certificate_signing_keys;
DROP TABLE certificate_serials;
DROP TRIGGER certificate_templates_frozen ON certificate_templates;
DROP TABLE certificate_templates;
DROP FUNCTION certificate_templates_frozen();
