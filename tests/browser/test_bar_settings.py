"""The owner's bar settings (every field of PATCH bar) and a bar switcher that picks up a bar
joined since login, without logging out (issue 14 §1)."""

from __future__ import annotations

import uuid

from tests.browser.devices import PHONE, TABLET, Devices
from tests.browser.test_manager_phone import go
from tests.browser.test_onboarding import new_device, sign_up
from tests.support import PASSWORD, Api


async def test_owner_edits_the_bar_and_switches_to_a_bar_joined_since_login(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar(name="Chez Test")
    await api.product(bar, "Flag", stock=5)
    tablet = await devices.open(
        await api.login(bar.owner.email), viewport=TABLET, ready="#stock-table"
    )
    page = tablet.page
    await go(tablet, "settings")
    form = "#bar-settings-form"
    assert await page.input_value(f"{form} input[name=currency_shown]") == "XOF"
    await page.fill(f"{form} input[name=name]", "Chez Fatou")
    await page.select_option(f"{form} select[name=timezone]", "Africa/Dakar")
    await page.fill(f"{form} input[name=day_starts_at]", "05:30")
    await page.fill(f"{form} input[name=lead_time_days]", "4")
    await page.fill(f"{form} input[name=service_level]", "97.5")
    await page.click(f"{form} button[type=submit]")
    await page.wait_for_selector('#settings-feedback[data-outcome="ok"]')
    assert await page.text_content("#bar-name") == "Chez Fatou"  # the top bar follows
    saved = (await api.http.get(f"/api/bars/{bar.id}", headers=bar.owner.headers)).json()
    assert {k: saved[k] for k in ("name", "timezone", "day_starts_at", "lead_time_days")} == {
        "name": "Chez Fatou",
        "timezone": "Africa/Dakar",
        "day_starts_at": "05:30",
        "lead_time_days": 4,
    }
    assert abs(saved["service_level"] - 0.975) < 1e-9

    # someone else's bar adds this owner as a manager: the app lists it without a new login
    other = await api.bar(name="Le Baobab")
    r = await api.http.post(
        f"/api/bars/{other.id}/staff",
        headers=other.owner.headers,
        json={"email": bar.owner.email, "role": "manager", "name": "x", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    await page.click("#menu-button")
    await page.click("#menu-switch-bar")
    await page.wait_for_selector("#bar-picker .bar-list button >> text=Le Baobab")
    await page.click("#bar-picker .bar-list button >> text=Le Baobab")
    await page.wait_for_selector("#start-steps")  # a bar with no products opens on its first steps
    assert await page.text_content("#bar-name") == "Le Baobab"
    # a manager there: no bar settings
    assert await page.locator('nav#tabs a[href="#/settings"]').count() == 0


async def test_someone_added_to_a_bar_after_signing_up_gets_it_without_logging_out(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar(name="Le Baobab")
    await api.product(bar, "Flag", stock=5)
    app = await new_device(devices, PHONE)
    page = app.page
    email = f"moussa-{uuid.uuid4().hex[:6]}@example.com"
    await sign_up(page, "Moussa", email)
    await page.wait_for_selector("#create-bar-form")  # no bar yet
    r = await api.http.post(
        f"/api/bars/{bar.id}/staff",
        headers=bar.owner.headers,
        json={"email": email, "role": "staff"},
    )
    assert r.status_code == 201, r.text
    # the phone comes back to the app (what a tap on its icon does)
    await page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    await page.wait_for_selector(".tile")
    assert await page.text_content("#bar-name") == "Le Baobab"
