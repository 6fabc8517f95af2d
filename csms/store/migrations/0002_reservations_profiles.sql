-- What the CSMS asked of its chargers and they accepted: reservations and charging profiles.

-- ReserveNow requests a charger Accepted. reservationId is chosen by the CSMS; a new
-- reservation with the same id replaces the old one.
CREATE TABLE reservations (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    reservation_id      INTEGER NOT NULL,
    connector_id        INTEGER NOT NULL,
    id_tag              TEXT NOT NULL,
    parent_id_tag       TEXT,
    expiry_date         TEXT NOT NULL,                  -- ISO 8601 UTC, as utcnow() writes it
    status              TEXT NOT NULL DEFAULT 'Reserved', -- Reserved | Cancelled | Expired | Used
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (charger_id, reservation_id)
);

-- SetChargingProfile requests a charger Accepted (and not cleared since).
CREATE TABLE charging_profiles (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    connector_id        INTEGER NOT NULL,
    profile_id          INTEGER NOT NULL,
    stack_level         INTEGER NOT NULL,
    purpose             TEXT NOT NULL,
    transaction_id      INTEGER,
    profile             TEXT NOT NULL,                  -- the csChargingProfiles object, JSON
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (charger_id, connector_id, profile_id)
);
