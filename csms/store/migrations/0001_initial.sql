-- Chargers known to the CSMS: registry data, what BootNotification told us, connection state.
CREATE TABLE chargers (
    id                  TEXT PRIMARY KEY,
    name                TEXT,
    vendor              TEXT,
    model               TEXT,
    serial_number       TEXT,
    charge_box_serial   TEXT,
    firmware_version    TEXT,
    iccid               TEXT,
    imsi                TEXT,
    meter_type          TEXT,
    meter_serial        TEXT,
    password_hash       TEXT,
    enabled             INTEGER NOT NULL DEFAULT 1,
    registration        TEXT NOT NULL DEFAULT 'Accepted',  -- what Boot is answered with
    boot_accepted       INTEGER NOT NULL DEFAULT 0,        -- remembered across reconnects
    last_boot_at        TEXT,
    online              INTEGER NOT NULL DEFAULT 0,
    connected_at        TEXT,
    last_seen_at        TEXT,
    firmware_status     TEXT,
    diagnostics_status  TEXT,
    local_list_version  INTEGER,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE connectors (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    connector_id        INTEGER NOT NULL,
    status              TEXT NOT NULL,
    error_code          TEXT,
    info                TEXT,
    vendor_id           TEXT,
    vendor_error_code   TEXT,
    status_timestamp    TEXT,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (charger_id, connector_id)
);

CREATE TABLE id_tags (
    id_tag              TEXT PRIMARY KEY,
    status              TEXT NOT NULL DEFAULT 'Accepted',
    expiry_date         TEXT,
    parent_id_tag       TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE transactions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    connector_id        INTEGER NOT NULL,
    id_tag              TEXT NOT NULL,
    auth_status         TEXT NOT NULL,
    meter_start         INTEGER NOT NULL,
    start_timestamp     TEXT NOT NULL,
    reservation_id      INTEGER,
    meter_stop          INTEGER,
    stop_timestamp      TEXT,
    stop_reason         TEXT,
    stop_id_tag         TEXT,
    status              TEXT NOT NULL DEFAULT 'Active',    -- Active | Completed
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX transactions_charger ON transactions (charger_id, status);
CREATE INDEX transactions_tag ON transactions (id_tag, status);
CREATE UNIQUE INDEX transactions_start_key
    ON transactions (charger_id, connector_id, id_tag, start_timestamp);

CREATE TABLE meter_values (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id          TEXT NOT NULL,
    connector_id        INTEGER NOT NULL,
    transaction_id      INTEGER,
    timestamp           TEXT NOT NULL,
    value               TEXT NOT NULL,
    measurand           TEXT NOT NULL DEFAULT 'Energy.Active.Import.Register',
    unit                TEXT,
    phase               TEXT,
    location            TEXT,
    context             TEXT,
    format              TEXT,
    source              TEXT NOT NULL  -- MeterValues | StopTransaction
);
CREATE INDEX meter_values_tx ON meter_values (transaction_id);
CREATE INDEX meter_values_charger ON meter_values (charger_id, timestamp);

-- Every frame in and out.
CREATE TABLE message_log (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id          TEXT NOT NULL,
    direction           TEXT NOT NULL,  -- in | out
    message_type        INTEGER,        -- 2 CALL, 3 CALLRESULT, 4 CALLERROR, NULL unreadable
    action              TEXT,
    message_id          TEXT,
    payload             TEXT NOT NULL,
    error_code          TEXT,
    transaction_id      INTEGER,
    timestamp           TEXT NOT NULL
);
CREATE INDEX message_log_charger ON message_log (charger_id, id);

CREATE TABLE charger_configuration (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    key                 TEXT NOT NULL,
    value               TEXT,
    readonly            INTEGER NOT NULL DEFAULT 0,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (charger_id, key)
);

-- Notifications a charger sends (DataTransfer, firmware/diagnostics/log status, security
-- events, certificate requests) and anomalies the CSMS noticed (e.g. a stop for an unknown
-- transaction).
CREATE TABLE charger_events (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id          TEXT NOT NULL,
    kind                TEXT NOT NULL,
    detail              TEXT,
    payload             TEXT,
    timestamp           TEXT NOT NULL
);
CREATE INDEX charger_events_charger ON charger_events (charger_id, kind);
