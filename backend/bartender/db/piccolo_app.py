"""The piccolo app whose migrations (top-level `migrations/`) build BarTender's schema."""

from pathlib import Path

from piccolo.conf.apps import AppConfig


def migrations_dir() -> Path:
    """`migrations/` of a source checkout, or the copy packaged into a wheel."""
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "migrations"
    if checkout.is_dir():
        return checkout
    return here.parents[1] / "_migrations"


APP_CONFIG = AppConfig(
    app_name="bartender",
    migrations_folder_path=str(migrations_dir()),
    table_classes=[],
)
