-- The OCPP security profile a charger must connect with: 1 Basic Auth over ws (or none
-- without a password), 2 TLS + Basic Auth, 3 mutual TLS. NULL: 1 (0 without a password).
ALTER TABLE chargers ADD COLUMN security_profile INTEGER;
