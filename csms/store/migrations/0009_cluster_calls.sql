-- Calls for a charger whose socket another node holds: the node asked writes the call, the
-- owner sends it and writes the answer; each tells the other by NOTIFY (SQLite: unused).
ALTER TABLE charger_owners ADD COLUMN subprotocol TEXT;  -- the OCPP version the owner speaks

CREATE TABLE cluster_calls (
    id                  TEXT PRIMARY KEY,
    origin              TEXT NOT NULL,   -- the node waiting for the answer
    target              TEXT NOT NULL,   -- the node holding the charger
    charger_id          TEXT NOT NULL,
    action              TEXT NOT NULL,
    payload             TEXT NOT NULL,   -- JSON
    timeout             REAL NOT NULL,   -- seconds the owner waits for the charger
    answer              TEXT,            -- JSON: {"result": ...} or {"error": ...}
    created_at          TEXT NOT NULL
);
