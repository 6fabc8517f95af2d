-- The OCPP version a registered charger must speak: '1.6', '2.0.1', or NULL for any (what
-- every charger registered before had). A charger offering several subprotocols is given its
-- registered one; one that does not offer it is refused at the handshake.
ALTER TABLE chargers ADD COLUMN ocpp_version TEXT
    CHECK (ocpp_version IS NULL OR ocpp_version IN ('1.6', '2.0.1'));
