-- Webhooks may subscribe to the corrections' events (issue 16; 20_after_stock_change.sql).
ALTER TABLE webhooks DROP CONSTRAINT IF EXISTS webhooks_events_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_events_check
    CHECK (cardinality(events) > 0 AND events <@ ARRAY[
        'stock.changed', 'stock.low', 'sale.created', 'sale.voided',
        'waste.recorded', 'transfer.sent', 'transfer.received', 'return.approved']);
