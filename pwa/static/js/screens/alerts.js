// Manager: the bar's low-stock alerts, newest first and live, with the "Notify me about low
// stock" switch that subscribes this device to Web Push. Owners also manage the bar's webhooks
// here (a deactivated one is shown as such; its secret is shown once, when it is created).

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, dateTime } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api, request } from "../api.js";
import { problemText, showErrors } from "../errors.js";
import { pushSupported, alertsEnabled, enableAlerts, disableAlerts, onAlert, AlertsUnavailable } from "../alerts.js";

const SAFETY_POLL_MS = 60_000; // live updates come with stock changes; this catches the rest

function notifySwitch(barId) {
  const input = h("input", { type: "checkbox", id: "push-toggle", role: "switch" });
  const status = h("span", { id: "push-status", class: "muted", role: "status" });
  const label = h("label", { class: "switch" }, input, h("span", {}, t("alerts.notify")));

  async function show() {
    if (!pushSupported()) {
      input.disabled = true;
      status.textContent = t("alerts.unsupported");
      return;
    }
    input.checked = await alertsEnabled(barId).catch(() => false);
    input.dataset.state = input.checked ? "on" : "off";
    if (Notification.permission === "denied") status.textContent = t("alerts.denied");
  }

  input.addEventListener("change", async () => {
    const wanted = input.checked;
    input.disabled = true;
    input.dataset.state = "busy";
    let message = "";
    try {
      if (wanted) await enableAlerts(barId);
      else await disableAlerts(barId);
      message = wanted ? t("alerts.on") : "";
    } catch (err) {
      message = err instanceof AlertsUnavailable ? t(`alerts.${err.reason}`)
        : t("alerts.failed", { error: err.problem ? problemText(err) : err.message || String(err) });
    }
    input.disabled = false;
    await show().catch(() => null);
    status.textContent = message;
  });
  show().catch(() => null);
  return h("div", { class: "notify" }, label, status);
}

function alertText(alert) {
  const vars = { product: alert.product_name, stock: number(alert.stock), threshold: number(alert.low_threshold) };
  return t(`alerts.${alert.kind}`, vars);
}

const EVENTS = ["sale.created", "sale.voided", "stock.changed", "stock.low"];

function webhookState(hook) {
  if (!hook.active) return h("span", { class: "badge alert-out" }, t("webhooks.inactive", { at: dateTime(hook.deactivated_at) }));
  if (hook.failing_since) return h("span", { class: "badge alert-low", title: hook.last_error || "" }, t("webhooks.failing", { at: dateTime(hook.failing_since) }));
  return h("span", { class: "badge" }, t("webhooks.active"));
}

function webhooksSection(barId) {
  const list = h("ul", { id: "webhooks-list", class: "alerts" });
  const secret = h("p", { id: "webhook-secret", hidden: true });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const url = h("input", { type: "url", name: "url", required: true, placeholder: "https://", maxlength: 2048 });
  const boxes = EVENTS.map((e) => h("input", { type: "checkbox", name: "events", value: e, checked: e === "stock.low" }));

  async function load() {
    const { webhooks } = await api.get(`/api/bars/${barId}/webhooks`);
    replace(list, webhooks.length ? webhooks.map((w) => h("li", { dataset: { webhookId: w.id, active: String(w.active) } },
      webhookState(w), " ", h("code", {}, w.url), " ", h("span", { class: "muted" }, w.events.join(", ")), " ",
      h("button", { type: "button", class: "ghost", onclick: async () => {
        await request("DELETE", `/api/bars/${barId}/webhooks/${w.id}`);
        await load();
      } }, t("webhooks.delete")))) : h("li", { class: "muted empty" }, t("webhooks.none")));
  }

  const form = h("form", { id: "webhook-form", class: "row wrap" },
    h("label", { class: "field" }, h("span", {}, t("webhooks.url")), url),
    h("fieldset", {}, h("legend", {}, t("webhooks.events")),
      boxes.map((box) => h("label", { class: "switch" }, box, h("span", {}, box.value)))),
    h("button", { type: "submit" }, t("webhooks.add")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      const created = await api.post(`/api/bars/${barId}/webhooks`, { url: url.value, events: boxes.filter((b) => b.checked).map((b) => b.value) });
      replace(secret, t("webhooks.secret_once"), " ", h("code", {}, created.secret));
      secret.hidden = false;
      url.value = "";
      await load();
    } catch (err) {
      error.hidden = false;
      showErrors(form, err, { summary: error }); // beside the URL, in the user's language
    }
  });
  load().catch(() => null);
  return h("section", { class: "panel", id: "webhooks" }, h("h2", {}, t("webhooks.title")), list, form, secret, error);
}

function render(container, ctx) {
  const list = h("ul", { id: "alerts-list", class: "alerts" });

  function draw(alerts) {
    if (!alerts.length) {
      replace(list, h("li", { class: "muted empty" }, t("alerts.none")));
      return;
    }
    replace(list, alerts.map((a) => h("li", { dataset: { alertId: a.id, kind: a.kind, productId: a.product_id } },
      h("span", { class: `badge ${a.kind === "out_of_stock" ? "alert-out" : "alert-low"}` }, t(`alerts.kind.${a.kind}`)),
      " ",
      h("a", { href: `#/ledger?product=${a.product_id}` }, alertText(a)),
      " ",
      h("time", { class: "muted", datetime: a.at }, dateTime(a.at)))));
  }

  async function load() {
    const body = await api.get(`/api/bars/${ctx.bar.id}/alerts?limit=50`);
    draw(body.alerts);
  }

  const refresh = debounce(() => load().catch(() => null), 300);
  container.append(h("section", { class: "panel" },
    h("h1", {}, t("nav.alerts")),
    notifySwitch(ctx.bar.id),
    h("div", { class: "scroll" }, list)));
  if (ctx.bar.role === "owner") container.append(webhooksSection(ctx.bar.id));
  load().catch(() => null);
  // an alert is written in the same transaction as the stock change that caused it
  const offs = [store.on("stock", refresh), onAlert(refresh)];
  const timer = setInterval(refresh, SAFETY_POLL_MS);
  return () => { offs.forEach((off) => off()); clearInterval(timer); };
}

registerScreen({ id: "alerts", titleKey: "nav.alerts", icon: "🔔", roles: ["owner", "manager"], order: 25, render });
