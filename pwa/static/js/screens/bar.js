// A bar's identity: "create a bar" (anyone logged in; they become its owner) and the owner's
// bar settings (every field of PATCH /api/bars/{id}: name, time zone, start of the business
// day, supplier lead time, service level). The currency is chosen once and never changes.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, locale, number } from "../i18n.js";
import { h } from "../ui.js";
import { api } from "../api.js";
import { showErrors, clearErrors, markField } from "../errors.js";

// The currencies the server knows (bars/currencies.py), most used by our bars first.
const CURRENCIES = ("XOF XAF EUR USD GBP CHF NGN GHS GNF SLE LRD GMD CVE MRU CDF MAD DZD TND EGP LYD " +
  "KES UGX TZS RWF BIF ETB DJF KMF MGA MUR SCR ZAR BWP NAD ZMW MWK MZN AOA SEK NOK DKK ISK PLN " +
  "CZK HUF RON BGN RSD UAH TRY CAD MXN BRL ARS CLP COP PEN HTG JPY KRW CNY HKD SGD INR VND IDR " +
  "THB PHP AUD NZD XPF AED SAR QAR KWD BHD OMR JOD ILS LBP").split(" ");

function currencyOptions(selected) {
  let names = null;
  try { names = new Intl.DisplayNames([locale()], { type: "currency" }); } catch { names = null; }
  return CURRENCIES.map((code) => h("option", { value: code, selected: code === selected },
    names ? `${code} — ${names.of(code)}` : code));
}

function zoneOptions(selected) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  if (selected && !zones.includes(selected)) zones.unshift(selected);
  return zones.map((zone) => h("option", { value: zone, selected: zone === selected }, zone.replaceAll("_", " ")));
}

function localZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", {}, label), control, hint ? h("small", { class: "muted" }, hint) : null);
}

/** The "create a bar" form; `onCreated(bar)` runs once the server has made it. */
export function createBarForm({ onCreated, onCancel = null }) {
  const message = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  const form = h("form", { class: "panel narrow", id: "create-bar-form", novalidate: true },
    h("h1", {}, t("bar.create_title")),
    h("p", { class: "muted" }, t("bar.create_intro")),
    field(t("bar.name"), h("input", { name: "name", required: true, maxlength: 200, autocomplete: "organization" })),
    field(t("bar.currency"), h("select", { name: "currency" }, currencyOptions(t("bar.default_currency"))), t("bar.currency_hint")),
    field(t("bar.timezone"), h("select", { name: "timezone" }, zoneOptions(localZone()))),
    field(t("bar.day_starts_at"), h("input", { name: "day_starts_at", type: "time", value: "06:00", required: true }), t("bar.day_starts_hint")),
    message,
    h("div", { class: "row" },
      onCancel ? h("button", { type: "button", class: "ghost", onclick: onCancel }, t("common.cancel")) : null,
      h("button", { type: "submit", class: "primary big" }, t("bar.create"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    message.textContent = "";
    const name = form.elements.name.value.trim();
    if (!name) { markField(form.elements.name, t("error.field.required")); form.elements.name.focus(); return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const bar = await api.post("/api/bars", {
        name, currency: form.currency.value, timezone: form.timezone.value,
        day_starts_at: form.day_starts_at.value || "06:00",
      });
      await onCreated(bar);
    } catch (err) {
      showErrors(form, err, { summary: message });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function renderSettings(container, ctx) {
  const bar = store.bar;
  const message = h("p", { class: "feedback", id: "settings-feedback", role: "status", "aria-live": "polite" });
  const form = h("form", { class: "panel", id: "bar-settings-form", novalidate: true },
    h("h1", {}, t("nav.settings")),
    h("div", { class: "row wrap" },
      field(t("bar.name"), h("input", { name: "name", required: true, maxlength: 200, value: bar.name })),
      field(t("bar.currency"), h("input", { name: "currency_shown", value: bar.currency, readonly: true, "aria-readonly": "true" }), t("bar.currency_fixed"))),
    h("div", { class: "row wrap" },
      field(t("bar.timezone"), h("select", { name: "timezone" }, zoneOptions(bar.timezone))),
      field(t("bar.day_starts_at"), h("input", { name: "day_starts_at", type: "time", value: bar.day_starts_at, required: true }), t("bar.day_starts_hint"))),
    h("h2", {}, t("bar.forecast_settings")),
    h("div", { class: "row wrap" },
      field(t("bar.lead_time_days"), h("input", { name: "lead_time_days", type: "number", min: 0, max: 60, step: 1, inputmode: "numeric", value: bar.lead_time_days }), t("bar.lead_time_hint")),
      field(t("bar.service_level"), h("input", { name: "service_level", type: "number", min: 50, max: 99.9, step: 0.1, inputmode: "decimal", value: +(bar.service_level * 100).toFixed(1) }), t("bar.service_level_hint"))),
    // issue 16: staff may record waste, offered and staff drinks at the till
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "staff_may_record_waste", checked: bar.staff_may_record_waste ? true : null }),
      h("span", {}, t("bar.staff_may_record_waste"))),
    message,
    h("button", { type: "submit", class: "primary big" }, t("common.save")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {};
    const name = form.elements.name.value.trim();
    if (name !== bar.name) body.name = name;
    if (form.timezone.value !== bar.timezone) body.timezone = form.timezone.value;
    if (form.day_starts_at.value !== bar.day_starts_at) body.day_starts_at = form.day_starts_at.value;
    const lead = Number(form.lead_time_days.value);
    if (form.lead_time_days.value === "" || !Number.isInteger(lead)) { markField(form.lead_time_days, t("error.field.whole_number")); return; }
    if (lead !== bar.lead_time_days) body.lead_time_days = lead;
    const percent = Number(String(form.service_level.value).replace(",", "."));
    if (form.service_level.value === "" || Number.isNaN(percent)) { markField(form.service_level, t("error.field.number")); return; }
    const level = Math.round(percent * 10) / 1000;
    if (level !== bar.service_level) body.service_level = level;
    if (form.staff_may_record_waste.checked !== Boolean(bar.staff_may_record_waste)) body.staff_may_record_waste = form.staff_may_record_waste.checked;
    if (Object.keys(body).length === 0) { message.dataset.outcome = "ok"; message.textContent = t("bar.unchanged"); return; }
    try {
      const saved = await api.patch(`/api/bars/${bar.id}`, body);
      Object.assign(store.bar, saved);
      store.emit("bar", saved);
      message.dataset.outcome = "ok";
      message.textContent = t("common.saved");
    } catch (err) {
      // the server speaks of service_level as a fraction: say the limits in percent
      const limits = err.problem?.errors?.find((e) => e.field === "service_level");
      showErrors(form, err, { summary: message });
      if (limits) {
        clearErrors(form.service_level.closest(".field"));
        markField(form.service_level, t("bar.service_level_range", { min: number(50), max: number(99.9) }));
      }
    }
  });
  container.append(form);
  return null;
}

registerScreen({ id: "settings", titleKey: "nav.settings", icon: "⚙️", roles: ["owner"], order: 95, group: "setup", render: renderSettings });
