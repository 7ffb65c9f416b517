"""Observability: Prometheus metrics, structured logs, request ids (docs/metrics.md)."""
