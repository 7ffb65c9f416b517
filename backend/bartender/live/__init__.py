"""The read side of live stock: what committed stock changes look like to readers.

The stock package writes (through its plpgsql functions, which NOTIFY on commit); this
package reads: the feed of committed transactions (LISTEN bt_stock, gaps filled from the
ledger), the catalog versions (LISTEN bt_catalog), the push/poll mode board, the polling
endpoint's answer and the ledger/snapshot queries. The realtime hub and the polling route
depend on it; it depends on neither (docs/architecture.md draws the arrows).
"""
