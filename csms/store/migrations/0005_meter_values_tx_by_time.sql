-- The samples of a transaction by time only: a MeterValues's samples (one instant, several
-- measurands) then go to one place of the index, not one place per measurand, which halves
-- the cost of storing them; the duplicate check reads the instant's samples, the list of a
-- transaction's samples comes in index order, and its newest energy register is found from
-- the newest end (tests/csms/test_query_plans.py).
DROP INDEX meter_values_tx;
CREATE INDEX meter_values_tx ON meter_values (transaction_id, timestamp)
    WHERE transaction_id IS NOT NULL;
