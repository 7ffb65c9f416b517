// Manager: a stock count. Type what is on the shelf; each line shows its variance (counted -
// expected, expected being the live stock) and what it is worth, and nothing is sent until
// the manager has reviewed the summary and confirmed. The draft (what was typed, and the
// count's id) lives at module level per bar, so switching screens mid-count loses nothing.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, tn, number, money } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api, uuid4 } from "../api.js";
import { showErrors } from "../errors.js";
import { emptyState } from "./start.js";

const drafts = new Map(); // bar_id -> { counted: Map(product_id -> counted), requestId }

function draftFor(barId) {
  if (!drafts.has(barId)) drafts.set(barId, { counted: new Map(), requestId: uuid4() });
  return drafts.get(barId);
}

// ---------- parts of the screen; `view` holds the draft and the elements they draw into ----------
function signed(n) { return n > 0 ? `+${number(n)}` : number(n); }

function varianceOf(view, p) {
  const c = view.counted.get(p.id);
  return c === undefined ? null : c - p.stock;
}

function updateRow(view, row, p) {
  const v = varianceOf(view, p);
  row.querySelector(".expected").textContent = number(p.stock);
  const cell = row.querySelector(".variance");
  cell.textContent = v === null ? "" : signed(v);
  cell.className = `num variance ${v < 0 ? "neg" : v > 0 ? "pos" : ""}`;
  row.querySelector(".value").textContent = v === null ? "" : money(v * p.price, view.currency);
}

function countRow(view, p) {
  const { counted } = view;
  const v = varianceOf(view, p);
  const input = h("input", {
    type: "number", min: 0, max: 100000, inputmode: "numeric", class: "count-input", name: `counted-${p.id}`,
    "aria-label": t("count.counted_for", { name: p.name }), value: counted.has(p.id) ? counted.get(p.id) : "",
  });
  const row = h("tr", { dataset: { productId: p.id } },
    h("th", { scope: "row" }, p.name),
    h("td", { class: "num expected", "data-label": t("count.expected") }, number(p.stock)),
    h("td", { class: "num", "data-label": t("count.counted") }, input),
    h("td", { class: `num variance ${v < 0 ? "neg" : v > 0 ? "pos" : ""}`, "data-label": t("count.variance") }, v === null ? "" : signed(v)),
    h("td", { class: "num value", "data-label": t("count.value") }, v === null ? "" : money(v * p.price, view.currency)));
  input.addEventListener("input", () => {
    const n = input.value === "" ? null : Number(input.value);
    if (n === null || !Number.isInteger(n) || n < 0) counted.delete(p.id); else counted.set(p.id, n);
    updateRow(view, row, p);
    drawSummary(view, false);
  });
  return row;
}

function drawRows(view) {
  const products = [...store.products.values()].filter((p) => p.active).sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name));
  replace(view.table,
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("product.name")), h("th", { scope: "col", class: "num" }, t("count.expected")),
      h("th", { scope: "col", class: "num" }, t("count.counted")), h("th", { scope: "col", class: "num" }, t("count.variance")),
      h("th", { scope: "col", class: "num" }, t("count.value")))),
    h("tbody", {}, products.map((p) => countRow(view, p))));
}

function drawSummary(view, confirming) {
  const { currency, summary } = view;
  const lines = [...view.counted].map(([id, c]) => ({ p: store.products.get(id), c })).filter((l) => l.p);
  const total = lines.reduce((sum, l) => sum + (l.c - l.p.stock) * l.p.price, 0);
  const changed = lines.filter((l) => l.c !== l.p.stock);
  replace(summary,
    h("p", {}, tn("count.summary", lines.length, { changed: number(changed.length) }), " ",
      h("strong", { id: "count-total-value" }, money(total, currency))),
    confirming ? h("div", { class: "confirm", role: "dialog", "aria-modal": "false", "aria-labelledby": "count-confirm-title" },
      h("h2", { id: "count-confirm-title" }, t("count.confirm_title")),
      h("ul", {}, changed.map((l) => h("li", {}, `${l.p.name}: ${number(l.p.stock)} → ${number(l.c)} (${signed(l.c - l.p.stock)}, ${money((l.c - l.p.stock) * l.p.price, currency)})`))),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => drawSummary(view, false) }, t("common.cancel")),
        h("button", { type: "button", class: "primary", id: "count-confirm", onclick: () => submit(view) }, t("count.confirm")))) : null);
  if (confirming) summary.querySelector("#count-confirm").focus();
}

async function submit(view) {
  const { draft, counted, message } = view;
  if (counted.size === 0) return;
  const body = { id: draft.requestId, counts: [...counted].map(([product_id, c]) => ({ product_id, counted: c })) };
  try {
    const result = await api.post(`/api/bars/${store.bar.id}/stock-counts`, body);
    store.applyStock(result.stock, result.seq);
    const value = result.lines.reduce((sum, l) => sum + l.variance_value, 0);
    message.dataset.outcome = "ok";
    message.textContent = tn("count.done", result.lines.length, { value: money(value, view.currency) });
    counted.clear();
    draft.requestId = uuid4();
    drawRows(view);
    replace(view.summary);
  } catch (err) {
    // counts[i] of the body is a product's line: its input shows the refusal
    const names = Object.fromEntries(body.counts.map((c, i) => [`counts[${i}].counted`, `counted-${c.product_id}`]));
    showErrors(view.table, err, { summary: message, names });
  }
}

function render(container) {
  if (![...store.products.values()].some((p) => p.active)) {
    container.append(emptyState("products"));
    return null;
  }
  const draft = draftFor(store.bar.id);
  const view = {
    draft, counted: draft.counted, currency: store.bar.currency, // counted: only lines the manager filled
    table: h("table", { class: "data stack", id: "count-table" }),
    summary: h("div", { class: "summary", id: "count-summary", "aria-live": "polite" }),
    message: h("p", { class: "feedback", id: "count-feedback", role: "status", "aria-live": "polite" }),
  };
  const review = h("button", { type: "button", class: "primary big", id: "count-review", onclick: () => {
    if (view.counted.size === 0) { view.message.dataset.outcome = "error"; view.message.textContent = t("count.empty"); return; }
    drawSummary(view, true);
  } }, t("count.review"));
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.count")), h("p", { class: "muted" }, t("count.intro")),
    h("div", { class: "scroll" }, view.table), view.summary, view.message, review));
  drawRows(view);
  if (view.counted.size) drawSummary(view, false);
  // live: expected values follow the stock as sales happen during the count
  const offs = [
    store.on("stock", (ids) => {
      for (const id of ids) {
        const row = view.table.querySelector(`tr[data-product-id="${id}"]`);
        if (row) updateRow(view, row, store.products.get(id));
      }
      if (view.summary.querySelector(".confirm")) drawSummary(view, true); else if (view.counted.size) drawSummary(view, false);
    }),
    store.on("products", () => drawRows(view)),
  ];
  return () => offs.forEach((off) => off());
}

registerScreen({ id: "count", titleKey: "nav.count", icon: "🧮", roles: ["owner", "manager"], order: 40, render });
