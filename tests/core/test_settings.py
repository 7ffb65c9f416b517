"""Settings: one default per field, read from its environment variable, every one documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from bartender.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_table() -> None:
    text = README.read_text()
    missing = [env for env in Settings.environment_names().values() if f"`{env}`" not in text]
    assert missing == []


def test_from_env_reads_each_type_and_keeps_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARTENDER_POOL_MAX", "7")
    monkeypatch.setenv("BARTENDER_ALERTS_WORKER", "off")
    monkeypatch.setenv("BARTENDER_POLL_CALM_S", "2.5")
    monkeypatch.setenv("BARTENDER_DATA_DIR", "/tmp/bt-data")
    monkeypatch.setenv("BARTENDER_LOCK_TIMEOUT_MS", "")  # empty counts as unset
    s = Settings.from_env()
    assert (s.pool_max_size, s.alerts_worker, s.realtime_poll_calm_s) == (7, False, 2.5)
    assert s.data_dir == Path("/tmp/bt-data")
    assert s.lock_timeout_ms == Settings().lock_timeout_ms
    # one default: the dataclass and the environment agree (forecast_prewarm once did not)
    for name in ("forecast_prewarm", "alerts_worker", "pool_min_size"):
        monkeypatch.delenv(Settings.environment_names()[name], raising=False)
    assert Settings.from_env().forecast_prewarm == Settings().forecast_prewarm


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARTENDER_POOL_MAX", "7")
    assert Settings.from_env(pool_max_size=3).pool_max_size == 3


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARTENDER_POOL_MAX", "ten")
    with pytest.raises(ValueError, match="BARTENDER_POOL_MAX='ten'"):
        Settings.from_env()
