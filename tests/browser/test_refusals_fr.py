"""Refusals in the user's language (issue 14 §3): a French user reads French beside the field
the server refused, never the server's English `detail` or validator message, and counts
are said with plural rules ("1 ligne", not "ligne(s)")."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.devices import PHONE, Devices
from tests.browser.test_manager_phone import assert_fits, go
from tests.browser.test_onboarding import new_device, sign_up
from tests.support import PASSWORD, Api

ENGLISH = ("Expected", "required", "already", "Invalid", "must be", "field")


async def field_error(page: Page, form: str, name: str) -> str:
    locator = page.locator(f'{form} .field-error[data-for="{name}"]')
    await locator.wait_for()
    return (await locator.text_content() or "").strip()


async def assert_no_english(page: Page) -> None:
    text = await page.inner_text("body")
    for word in ENGLISH:
        assert word not in text, f"{word!r} shown to a French user: {text[:400]}"


async def test_refusals_are_said_in_french_beside_their_field(api: Api, devices: Devices) -> None:
    bar = await api.bar(name="Chez Fatou")
    flag = await api.product(bar, "Flag", stock=10, price=800)
    member = await api.member(bar, "staff")
    taken = await api.user("Awa")
    app = await new_device(devices, PHONE, locale="fr-FR")
    page = app.page
    assert await page.get_attribute("html", "lang") == "fr"

    # sign-up: an email already used (409 email_taken), said beside the email
    await sign_up(page, "Awa", taken.email)
    assert await field_error(page, "#signup-form", "email") == (
        "Un compte existe déjà avec cet e-mail."
    )
    assert await page.get_attribute("#signup-form input[name=email]", "aria-invalid") == "true"
    await assert_no_english(page)
    await assert_fits(page, "signup")

    # with a free email: "create your bar", in French, fitting the phone, no "Hors ligne"
    await page.fill("#signup-form input[name=email]", "awa.nouvelle@example.com")
    await page.click("#signup-form button[type=submit]")
    await page.wait_for_selector("#create-bar-form")
    assert await page.locator("#conn-badge").is_hidden()
    await page.click("#create-bar-form button[type=submit]")
    assert await field_error(page, "#create-bar-form", "name") == "Obligatoire."
    await assert_fits(page, "create bar")
    await assert_no_english(page)
    await page.click("#menu-button")
    await page.click("#menu button:last-child")  # se déconnecter
    await page.wait_for_selector("#show-signup")

    # the owner's bar settings: the server's limits, in French and in percent
    await page.fill("form.login input[name=email]", bar.owner.email)
    await page.fill("form.login input[name=password]", PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_selector(".tile")
    await go(app, "settings")
    await page.fill("#bar-settings-form input[name=service_level]", "99.95")
    await page.click("#bar-settings-form button[type=submit]")
    assert await field_error(page, "#bar-settings-form", "service_level") == "Entre 50 et 99,9 %."
    await assert_no_english(page)
    await page.fill("#bar-settings-form input[name=service_level]", "95")
    await page.fill("#bar-settings-form input[name=name]", "")
    await page.click("#bar-settings-form button[type=submit]")
    assert await field_error(page, "#bar-settings-form", "name") == "Obligatoire."  # server's
    await assert_no_english(page)
    await assert_fits(page, "settings")

    # the team: an existing member (409 already_member), then a new account without password
    await go(app, "staff")
    await page.fill("#invite-form input[name=email]", member.email)
    await page.click("#invite-form button[type=submit]")
    assert await field_error(page, "#invite-form", "email") == "Déjà membre de ce bar."
    await page.fill("#invite-form input[name=email]", "nouveau@example.com")
    await page.click("#invite-form button[type=submit]")
    assert await field_error(page, "#invite-form", "password") == "Obligatoire."
    assert await field_error(page, "#invite-form", "name") == "Obligatoire."
    await assert_no_english(page)

    # a count the server refuses: said beside that product's line
    await go(app, "count")
    await page.fill(f'#count-table tr[data-product-id="{flag}"] input', "200000")
    await page.click("#count-review")
    await page.click("#count-confirm")
    limit = await field_error(page, "#count-table", f"counted-{flag}")
    assert limit.replace("\u202f", " ").replace("\xa0", " ") == "Au plus 100 000."
    await assert_no_english(page)

    # plurals: one counted line is "1 ligne"
    await page.fill(f'#count-table tr[data-product-id="{flag}"] input', "9")
    summary = await page.text_content("#count-summary") or ""
    assert "1 ligne comptée" in summary and "(s)" not in summary
    await page.click("#count-review")
    await page.click("#count-confirm")
    await page.wait_for_selector('#count-feedback[data-outcome="ok"]')
    done = await page.text_content("#count-feedback") or ""
    assert done.startswith("Inventaire enregistré : 1 ligne,"), done
    assert "(s)" not in await page.inner_text("body")
