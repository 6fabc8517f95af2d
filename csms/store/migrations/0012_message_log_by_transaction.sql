-- A transaction's frames, in order: `GET /api/transactions/{id}/messages`. Partial: the rows
-- of no transaction (boots, heartbeats, status, most CSMS calls) are not in it. Building it
-- on a big log takes a while once (about a second per million linked rows).
CREATE INDEX message_log_transaction ON message_log (transaction_id, id)
    WHERE transaction_id IS NOT NULL;
