"""Stock: products, stock items and recipes, sales, deliveries, counts, voids, the ledger, stats.

Every stock change goes through one plpgsql function per operation
(migrations/functions/3N_stock_*.sql; returns, waste, transfers and empties are the 4N_ files,
called from bartender.corrections); this package validates input, calls the function and
returns its JSON untouched. The live read side (feed, polling, replay) is bartender.live.
"""
