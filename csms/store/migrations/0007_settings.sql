-- Settings of the CSMS kept in its database: what every node of a cluster on one PostgreSQL
-- database must share (the API token, which SQLite keeps in a file beside the database).
CREATE TABLE settings (
    name                TEXT PRIMARY KEY,
    value               TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
