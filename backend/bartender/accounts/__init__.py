"""Accounts: signup, login, rotating refresh tokens, login throttling, the bearer guard."""
