-- An id tag's OCPP 2.0.1 idToken type, or NULL for any (what every tag stored before had).
-- A 2.0.1 token is its value and its type: one of another type is not this tag. The type is
-- also what the CSMS says of a group (groupIdToken) and sends in a remote start.
ALTER TABLE id_tags ADD COLUMN token_type TEXT
    CHECK (token_type IS NULL OR token_type IN ('Central', 'eMAID', 'ISO14443', 'ISO15693',
        'KeyCode', 'Local', 'MacAddress'));
