"""French and English carry the same messages, and every message the front end asks for exists."""

from __future__ import annotations

import json
import re

from bartender.pwa.assets import pwa_dir

STATIC = pwa_dir() / "static"
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']|titleKey:\s*["']([a-z_.]+)["']""")
# keys built at run time: t(`conn.${state}`) and friends
DYNAMIC = {
    "conn": ["live", "polling", "offline"],
    "level": ["ok", "low", "out"],
    "kind": ["sale", "delivery", "void", "count"],
    "role": ["owner", "manager", "staff"],
    "outbox": ["pending", "rejected"],
}


def _messages(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def test_french_and_english_have_the_same_keys_and_placeholders() -> None:
    fr, en = _messages("fr"), _messages("en")
    assert sorted(fr) == sorted(en)
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", fr[key])), key


def test_every_key_used_by_the_front_end_exists() -> None:
    used = set()
    for script in STATIC.rglob("*.js"):
        for literal, title in LITERAL_KEY.findall(script.read_text(encoding="utf-8")):
            used.add(literal or title)
    used |= {f"{family}.{name}" for family, names in DYNAMIC.items() for name in names}
    assert len(used) > 50
    for lang in ("fr", "en"):
        missing = sorted(used - set(_messages(lang)))
        assert not missing, f"{lang}.json lacks {missing}"
