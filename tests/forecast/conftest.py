"""Forecast tests: fitting in a thread by default (a process pool is one test's subject),
and a changed history refitted at once (the refit rate limit is one test file's subject)."""

from __future__ import annotations

import pytest

from bartender.settings import Settings
from tests.support import make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, forecast_workers=0, forecast_refit_interval_s=0.0)
