// At the till (every member, issue 16): a customer's return of a recent sale (staff's is a
// request a manager decides; a manager's is done at once), the deposit refunded for the
// empties a customer brings back, and waste where the bar lets staff record it. The forms are shared with the managers' Returns & waste
// screen (corrections.js). One id per attempt: a double tap or a retry records nothing twice.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, money } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api, uuid4 } from "../api.js";
import { problemText } from "../errors.js";

export function productName(id) {
  return store.products.get(id)?.name || id.slice(0, 8);
}

export function productSelect(name) {
  return h("select", { name, required: true },
    h("option", { value: "" }, "—"),
    [...store.products.values()].filter((p) => p.active).sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => h("option", { value: p.id }, `${p.name} (${number(p.stock)})`)));
}

/** Redraw a select's options (a live reload) without losing what the person picked. */
export function refill(select, ...options) {
  const picked = select.value;
  replace(select, ...options);
  select.value = picked;
}

/** A form whose submit posts `body(form)` under one id per attempt; `done(result)` says how it went. */
export function operationForm(id, title, fields, submitKey, path, body, done) {
  const feedback = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  let attempt = uuid4();
  const form = h("form", { class: "panel", id, novalidate: true }, h("h2", {}, t(title)), fields, feedback,
    h("button", { type: "submit", class: "primary" }, t(submitKey)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const payload = body(form);
    if (!payload) { feedback.dataset.outcome = "error"; feedback.textContent = t("corrections.incomplete"); return; }
    try {
      const result = await api.post(`/api/bars/${store.bar.id}/${path(form)}`, { id: attempt, ...payload });
      if (result.stock) store.applyStock(result.stock, result.seq);
      feedback.dataset.outcome = "ok";
      feedback.textContent = done(result);
      attempt = uuid4();
      form.reset();
    } catch (err) {
      feedback.dataset.outcome = "error";
      feedback.textContent = problemText(err);
    }
  });
  return form;
}

let chosenSale = null; // {id, number} picked in the sales list ("Return"), for the next return form

/** The sales list's "Return": the next return form opens on that sale. */
export function returnSale(sale) {
  chosenSale = { id: sale.id, number: sale.number };
}

/** Return (part of) a recent sale; `load()` reads the sales to choose from. */
export function returnForm(bar) {
  const saleSelect = h("select", { name: "sale", required: true });
  const form = operationForm("return-form", "corrections.return_title",
    [h("label", { class: "field" }, h("span", {}, t("corrections.sale")), saleSelect),
      h("label", { class: "field" }, h("span", {}, t("corrections.product")), productSelect("product")),
      h("label", { class: "field small" }, h("span", {}, t("corrections.qty")), h("input", { type: "number", name: "qty", min: 1, max: 999, value: 1 })),
      h("label", { class: "field" }, h("span", {}, t("corrections.disposition")), h("select", { name: "disposition" },
        h("option", { value: "restock" }, t("corrections.restock")), h("option", { value: "waste" }, t("corrections.lost")))),
      h("label", { class: "field" }, h("span", {}, t("corrections.reason")), h("input", { name: "reason", maxlength: 500, required: true }))],
    "corrections.return_submit",
    (f) => `sales/${f.sale.value}/returns`,
    (f) => (f.sale.value && f.product.value && f.reason.value.trim() ? {
      reason: f.reason.value.trim(),
      items: [{ product_id: f.product.value, qty: Number(f.qty.value), disposition: f.disposition.value }],
    } : null),
    (r) => t(r.status === "pending" ? "corrections.return_pending" : "corrections.return_done", { refund: money(r.refund, r.currency) }));
  async function load() {
    try {
      const { sales } = await api.get(`/api/bars/${bar.id}/sales?limit=20`);
      refill(saleSelect, h("option", { value: "" }, "—"), sales.filter((s) => !s.voided_at).map((s) =>
        h("option", { value: s.id }, `#${s.number} — ${s.items.map((l) => `${number(l.qty)} × ${productName(l.product_id)}`).join(", ")}`)));
    } catch { /* the list stays as it was; the form says why when it is used */ }
    if (chosenSale) { // an older sale than the last 20 still gets its option
      if (![...saleSelect.options].some((o) => o.value === chosenSale.id)) saleSelect.append(h("option", { value: chosenSale.id }, `#${chosenSale.number}`));
      saleSelect.value = chosenSale.id;
      chosenSale = null;
    }
  }
  return { form, load };
}

/** The deposit refunded for a customer's empties; `fill(containers)` lists the containers. */
export function emptiesForm(bar) {
  const containerSelect = h("select", { name: "container", required: true });
  const form = operationForm("empties-form", "corrections.empties_title",
    [h("label", { class: "field" }, h("span", {}, t("corrections.container")), containerSelect),
      h("label", { class: "field small" }, h("span", {}, t("corrections.qty")), h("input", { type: "number", name: "qty", min: 1, max: 10000, value: 1 }))],
    "corrections.empties_submit",
    () => "empties/refunds",
    (f) => (f.container.value ? { items: [{ container_id: f.container.value, qty: Number(f.qty.value) }] } : null),
    (r) => t("corrections.empties_done", { refund: money(r.refund, r.currency) }));
  const fill = (containers) => refill(containerSelect, h("option", { value: "" }, "—"),
    containers.map((c) => h("option", { value: c.id }, `${c.name} (${money(c.deposit, bar.currency)})`)));
  return { form, fill };
}

/** The delivery form's empties (consignes): per container, the full ones received and the
 * empties handed back to the supplier. `read()` gives the delivery's `containers` or null. */
export function deliveryEmpties(bar) {
  const box = h("fieldset", { class: "empties", id: "delivery-empties", hidden: true });
  api.get(`/api/bars/${bar.id}/containers`).then(({ containers }) => {
    if (containers.length === 0) return;
    replace(box, h("legend", {}, t("delivery.empties")), containers.map((c) => h("div", { class: "row wrap" },
      h("span", { class: "field" }, `${c.name} (${t("delivery.empties_on_hand", { n: number(c.empties) })})`),
      h("label", { class: "field small" }, h("span", {}, t("delivery.full_in")),
        h("input", { type: "number", name: `full-${c.id}`, min: 0, max: 100000, inputmode: "numeric", dataset: { container: c.id, key: "full_in" } })),
      h("label", { class: "field small" }, h("span", {}, t("delivery.empties_out")),
        h("input", { type: "number", name: `out-${c.id}`, min: 0, max: 100000, inputmode: "numeric", dataset: { container: c.id, key: "empties_out" } })))));
    box.hidden = false;
  }).catch(() => { /* offline: a delivery without empties */ });
  function read() {
    const lines = new Map();
    for (const input of box.querySelectorAll("input[data-container]")) {
      const n = Number(input.value);
      if (!(n > 0)) continue;
      const line = lines.get(input.dataset.container) || { container_id: input.dataset.container };
      line[input.dataset.key] = n;
      lines.set(input.dataset.container, line);
    }
    return lines.size ? [...lines.values()] : null;
  }
  return { el: box, read };
}

const WASTE_KINDS = ["breakage", "spillage", "expired", "offered", "staff_drink"];

/** Waste, an offered or a staff drink, with a reason (managers; staff where the bar allows). */
export function wasteForm(bar) {
  return operationForm("waste-form", "corrections.waste_title",
    [h("label", { class: "field" }, h("span", {}, t("corrections.product")), productSelect("product")),
      h("label", { class: "field small" }, h("span", {}, t("corrections.qty")), h("input", { type: "number", name: "qty", min: 1, max: 100000, value: 1 })),
      h("label", { class: "field" }, h("span", {}, t("corrections.kind")), h("select", { name: "kind" },
        WASTE_KINDS.map((k) => h("option", { value: k }, t(`corrections.kind_${k}`))))),
      h("label", { class: "field" }, h("span", {}, t("corrections.reason")), h("input", { name: "reason", maxlength: 500 }))],
    "corrections.waste_submit",
    () => "waste",
    (f) => (f.product.value ? {
      kind: f.kind.value,
      items: [{ product_id: f.product.value, qty: Number(f.qty.value) }],
      ...(f.reason.value.trim() ? { reason: f.reason.value.trim() } : {}),
    } : null),
    (r) => t("corrections.waste_done", { value: money(r.value_price ?? 0, bar.currency) }));
}

function render(container) {
  const bar = store.bar;
  const returns = returnForm(bar);
  const empties = emptiesForm(bar);
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.till"))), returns.form, empties.form,
    bar.staff_may_record_waste ? wasteForm(bar) : null);
  const reload = async () => {
    returns.load();
    try {
      empties.fill((await api.get(`/api/bars/${bar.id}/containers`)).containers);
    } catch { /* offline: the list stays as it was */ }
  };
  reload();
  return store.on("stock", debounce(reload, 400));
}

registerScreen({ id: "till", titleKey: "nav.till", icon: "↩️", roles: ["staff"], order: 12, render });
