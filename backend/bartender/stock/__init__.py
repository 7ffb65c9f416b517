"""Stock: products, sales, deliveries, counts, voids, the ledger, stats and the polling feed.

Every stock change goes through one plpgsql function per operation (migrations/sql_*/stock_*.sql);
this package validates input, calls the function and returns its JSON untouched.
"""
