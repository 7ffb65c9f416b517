"""PostgreSQL: the embedded server, migrations, the pool and the LISTEN connection."""
