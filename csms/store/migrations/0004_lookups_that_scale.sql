-- Indexes that match the lookups, so the cost of a message does not grow with what is stored
-- (tests/csms/test_query_plans.py asserts each hot statement's plan).

-- Meter values: one partial index for the samples of transactions, one for those outside
-- any (clock-aligned values on connector 0, meters outside a session). The duplicate check of
-- an insert is an equality on all the leading columns of one of them, so it reads the few
-- samples of one instant, never all the samples of a charger or of a transaction.
--   in a transaction: duplicate check; a transaction's samples; its newest energy register
--   outside: duplicate check; retention (per charger and connector, by timestamp)
DROP INDEX meter_values_tx;
DROP INDEX meter_values_charger;
CREATE INDEX meter_values_tx ON meter_values (transaction_id, measurand, timestamp)
    WHERE transaction_id IS NOT NULL;
CREATE INDEX meter_values_loose ON meter_values (charger_id, connector_id, timestamp)
    WHERE transaction_id IS NULL;

-- Transactions: a charger's newest first (rowid order within a charger), and the active ones
-- (a few per connector at most, however long the history): the connector's open transaction
-- at a start, the dashboard's list of active transactions.
DROP INDEX transactions_charger;
CREATE INDEX transactions_charger ON transactions (charger_id);
CREATE INDEX transactions_active ON transactions (charger_id, connector_id)
    WHERE status = 'Active';
-- the reservations a charger's transactions used (a charger's reservations are marked Used)
CREATE INDEX transactions_reservation ON transactions (charger_id, reservation_id)
    WHERE reservation_id IS NOT NULL;

-- Message log: a charger's messages of one action, newest or oldest first, paged; and the
-- StartTransaction CALL a late answer links to its transaction.
CREATE INDEX message_log_action ON message_log (charger_id, action, id);

-- Charger events: a charger's most recent, whatever their kind.
CREATE INDEX charger_events_recent ON charger_events (charger_id, id);
