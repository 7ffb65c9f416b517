"""Low-stock alerts: the alerts feed, Web Push to managers and signed webhooks.

Stock functions write alert and outbox rows in the stock transaction
(migrations/functions/20_after_stock_change.sql);
`worker.OutboxWorker` delivers them after commit, from every app process without duplicates.
"""
