// Manager: the bar's low-stock alerts, newest first and live, with the "Notify me about low
// stock" switch that subscribes this device to Web Push.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, dateTime } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api } from "../api.js";
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
        : t("alerts.failed", { error: err.message || String(err) });
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
  load().catch(() => null);
  // an alert is written in the same transaction as the stock change that caused it
  const offs = [store.on("stock", refresh), onAlert(refresh)];
  const timer = setInterval(refresh, SAFETY_POLL_MS);
  return () => { offs.forEach((off) => off()); clearInterval(timer); };
}

registerScreen({ id: "alerts", titleKey: "nav.alerts", icon: "🔔", roles: ["owner", "manager"], order: 25, render });
