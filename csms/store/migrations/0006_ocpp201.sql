-- OCPP 2.0.1 beside 1.6, in one schema.

-- Transactions keep one integer record number (`id`) whatever the version: 1.6 chargers use it
-- as their transactionId, the API and every other table name a transaction by it. A 2.0.1
-- station picks its own transactionId (a string, unique at that station only): it is kept
-- here, one per charger, never mistaken for a record number.
ALTER TABLE transactions ADD COLUMN station_transaction_id TEXT;  -- 2.0.1; NULL for 1.6
ALTER TABLE transactions ADD COLUMN evse_id INTEGER;
ALTER TABLE transactions ADD COLUMN charging_state TEXT;  -- as of the highest seqNo
ALTER TABLE transactions ADD COLUMN last_seq_no INTEGER;  -- the highest seqNo received
ALTER TABLE transactions ADD COLUMN remote_start_id INTEGER;
-- a repeated 1.6 start is one on the same connector, with the same tag, at the same time; a
-- 2.0.1 station's repeats carry its own transactionId instead
DROP INDEX transactions_start_key;
CREATE UNIQUE INDEX transactions_start_key
    ON transactions (charger_id, connector_id, id_tag, start_timestamp)
    WHERE station_transaction_id IS NULL;
CREATE UNIQUE INDEX transactions_station_id ON transactions (charger_id, station_transaction_id)
    WHERE station_transaction_id IS NOT NULL;

-- The TransactionEvents received, one per seqNo: a retry (same seqNo) is found here and not
-- applied twice; the numbers missing below the highest are the gaps.
CREATE TABLE transaction_events (
    transaction_id      INTEGER NOT NULL REFERENCES transactions(id) ON DELETE CASCADE,
    seq_no              INTEGER NOT NULL,
    event_type          TEXT NOT NULL,                   -- Started | Updated | Ended
    trigger_reason      TEXT NOT NULL,
    timestamp           TEXT NOT NULL,                   -- when it happened, as the station said
    offline             INTEGER NOT NULL DEFAULT 0,
    received_at         TEXT NOT NULL,
    PRIMARY KEY (transaction_id, seq_no)
) WITHOUT ROWID;

-- Connectors under their EVSE (2.0.1 numbers connectors from 1 on each EVSE). A 1.6
-- charger's connectors have no EVSE: evse_id 0. The primary key changes, so the table is
-- made anew (it holds a row per connector: small).
CREATE TABLE connectors_new (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    evse_id             INTEGER NOT NULL DEFAULT 0,
    connector_id        INTEGER NOT NULL,
    status              TEXT NOT NULL,
    error_code          TEXT,
    info                TEXT,
    vendor_id           TEXT,
    vendor_error_code   TEXT,
    status_timestamp    TEXT,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (charger_id, evse_id, connector_id)
);
INSERT INTO connectors_new (charger_id, connector_id, status, error_code, info, vendor_id,
    vendor_error_code, status_timestamp, updated_at)
    SELECT charger_id, connector_id, status, error_code, info, vendor_id, vendor_error_code,
        status_timestamp, updated_at FROM connectors;
DROP TABLE connectors;
ALTER TABLE connectors_new RENAME TO connectors;

-- A 2.0.1 station's device model: one row per variable attribute, as NotifyReport,
-- GetVariables and accepted SetVariables told it. No EVSE (connector): 0.
CREATE TABLE charger_variables (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    component           TEXT NOT NULL,
    component_instance  TEXT NOT NULL DEFAULT '',
    evse_id             INTEGER NOT NULL DEFAULT 0,
    connector_id        INTEGER NOT NULL DEFAULT 0,
    variable            TEXT NOT NULL,
    variable_instance   TEXT NOT NULL DEFAULT '',
    attribute           TEXT NOT NULL DEFAULT 'Actual',  -- Actual | Target | MinSet | MaxSet
    value               TEXT,
    mutability          TEXT,
    characteristics     TEXT,                            -- variableCharacteristics, JSON
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (charger_id, component, component_instance, evse_id, connector_id, variable,
        variable_instance, attribute)
);

-- The parts of each NotifyReport received (requestId, seqNo; tbc: more to come).
CREATE TABLE report_parts (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    request_id          INTEGER NOT NULL,
    seq_no              INTEGER NOT NULL,
    tbc                 INTEGER NOT NULL,
    generated_at        TEXT NOT NULL,
    received_at         TEXT NOT NULL,
    PRIMARY KEY (charger_id, request_id, seq_no)
);
