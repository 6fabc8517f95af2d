-- Several CSMS nodes on one PostgreSQL database (SQLite has the table too, unused).
-- Each node renews its lease; past lease_until it is taken for dead, and so are its claims.
CREATE TABLE cluster_nodes (
    node_id             TEXT PRIMARY KEY,
    ocpp_url            TEXT,
    api_url             TEXT,
    started_at          TEXT NOT NULL,
    lease_until         TEXT NOT NULL
);

-- Which node holds each connected charger's socket: the newest claim wins (claim numbers
-- grow), and a node closes its own connection when another node claims the charger.
CREATE TABLE charger_owners (
    charger_id          TEXT PRIMARY KEY,
    node_id             TEXT NOT NULL,
    claim               INTEGER NOT NULL,
    since               TEXT NOT NULL
);
CREATE INDEX charger_owners_node ON charger_owners (node_id);
