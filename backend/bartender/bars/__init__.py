"""Bars: settings, memberships and roles."""
