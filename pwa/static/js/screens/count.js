// Manager: a stock count. Type what is on the shelf; each line shows its variance (counted -
// expected, expected being the live stock) and what it is worth, and nothing is sent until
// the manager has reviewed the summary and confirmed. The draft (what was typed, and the
// count's id) lives at module level per bar, so switching screens mid-count loses nothing.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, tn, number, money } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api, uuid4 } from "../api.js";
import { showErrors } from "../errors.js";
import { emptyState } from "./start.js";
import { loadShelf, shelfItems, packFields, readQuantity, quantityBody } from "./shelf.js";

// bar_id -> { counted: Map(id -> counted, in base units), quantities: Map(id -> as typed in
// packs + units + tenths), requestId }. An id is a product's (its own stock item) or an item's.
const drafts = new Map();

function draftFor(barId) {
  if (!drafts.has(barId)) drafts.set(barId, { counted: new Map(), quantities: new Map(), requestId: uuid4() });
  return drafts.get(barId);
}

/**
 * What a line counts: a product that is its own stock item (its live stock, its price), or a
 * stock item that is no product (stock as last read, no price). Packs come from the item.
 */
function entryOf(view, id) {
  const product = store.products.get(id);
  const item = view.items.get(id);
  if (product) return item ? { ...product, packs: item.packs, base_unit: item.base_unit } : { ...product, packs: [] };
  return item ? { ...item, price: null } : null;
}

function entries(view) {
  const products = [...store.products.values()].filter((p) => p.active && (!view.shelf || view.items.has(p.id)));
  const others = view.shelf ? [...view.items.values()].filter((i) => !store.products.has(i.id)) : [];
  return [...products.map((p) => entryOf(view, p.id)), ...others.map((i) => entryOf(view, i.id))]
    .sort((a, b) => (a.category ?? "").localeCompare(b.category ?? "") || a.name.localeCompare(b.name));
}

function worth(v, p, currency) {
  return p.price === null || p.price === undefined ? "" : money(v * p.price, currency);
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
  row.querySelector(".value").textContent = v === null ? "" : worth(v, p, view.currency);
}

function countRow(view, p) {
  const { counted, quantities } = view;
  const v = varianceOf(view, p);
  const typed = quantities.get(p.id);
  const input = h("input", {
    type: "number", min: 0, max: 100000, inputmode: "numeric", class: "count-input", name: `counted-${p.id}`,
    "aria-label": p.packs.length ? t("count.units_for", { name: p.name, unit: p.base_unit }) : t("count.counted_for", { name: p.name }),
    value: typed ? (typed.units || "") : counted.has(p.id) ? counted.get(p.id) : "",
  });
  const packs = h("span", { class: "pack-fields" });
  // "2 casiers + 5": packs first, then the loose units, labelled with the base unit
  const cell = h("td", { class: "num", "data-label": t("count.counted") }, p.packs.length
    ? [packs, h("label", { class: "field small" }, h("span", {}, t("shelf.units_of", { unit: p.base_unit })), input)] : [input, packs]);
  const ids = store.products.has(p.id) ? { productId: p.id, itemId: p.id } : { itemId: p.id };
  const row = h("tr", { dataset: { ...ids, packs: JSON.stringify(p.packs) } },
    h("th", { scope: "row" }, p.name),
    h("td", { class: "num expected", "data-label": t("count.expected") }, number(p.stock)),
    cell,
    h("td", { class: `num variance ${v < 0 ? "neg" : v > 0 ? "pos" : ""}`, "data-label": t("count.variance") }, v === null ? "" : signed(v)),
    h("td", { class: "num value", "data-label": t("count.value") }, v === null ? "" : worth(v, p, view.currency)));
  function changed() {
    // "2 bouteilles + 3/10": packs, units and tenths add up to base units as the server does
    const q = readQuantity(p, cell, p.id, input);
    if (!q || !Number.isInteger(q.total)) { counted.delete(p.id); quantities.delete(p.id); } else {
      counted.set(p.id, q.total);
      if (q.packs || q.tenths) quantities.set(p.id, q); else quantities.delete(p.id);
    }
    updateRow(view, row, entryOf(view, p.id) || p);
    drawSummary(view, false);
  }
  packFields(packs, p, p.id, { tenths: true, onInput: changed });
  if (typed) {
    for (const [name, value] of [["packs", typed.packs], ["tenths", typed.tenths], ["pack", typed.pack]]) {
      const el = packs.querySelector(`[name=${name}-${p.id}]`);
      if (el && value) el.value = value;
    }
  }
  input.addEventListener("input", changed);
  return row;
}

function drawRows(view) {
  const products = entries(view);
  replace(view.table,
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("product.name")), h("th", { scope: "col", class: "num" }, t("count.expected")),
      h("th", { scope: "col", class: "num" }, t("count.counted")), h("th", { scope: "col", class: "num" }, t("count.variance")),
      h("th", { scope: "col", class: "num" }, t("count.value")))),
    h("tbody", {}, products.map((p) => countRow(view, p))));
}

function drawSummary(view, confirming) {
  const { currency, summary } = view;
  const lines = [...view.counted].map(([id, c]) => ({ p: entryOf(view, id), c })).filter((l) => l.p);
  const total = lines.reduce((sum, l) => sum + (l.c - l.p.stock) * (l.p.price ?? 0), 0);
  const changed = lines.filter((l) => l.c !== l.p.stock);
  replace(summary,
    h("p", {}, tn("count.summary", lines.length, { changed: number(changed.length) }), " ",
      h("strong", { id: "count-total-value" }, money(total, currency))),
    confirming ? h("div", { class: "confirm", role: "dialog", "aria-modal": "false", "aria-labelledby": "count-confirm-title" },
      h("h2", { id: "count-confirm-title" }, t("count.confirm_title")),
      h("ul", {}, changed.map((l) => h("li", {}, `${l.p.name}: ${number(l.p.stock)} → ${number(l.c)} (${[signed(l.c - l.p.stock), worth(l.c - l.p.stock, l.p, currency)].filter(Boolean).join(", ")})`))),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => drawSummary(view, false) }, t("common.cancel")),
        h("button", { type: "button", class: "primary", id: "count-confirm", onclick: () => submit(view) }, t("count.confirm")))) : null);
  if (confirming) summary.querySelector("#count-confirm").focus();
}

async function submit(view) {
  const { draft, counted, quantities, message } = view;
  if (counted.size === 0) return;
  const ids = [...counted.keys()];
  const body = {
    id: draft.requestId,
    counts: ids.map((id) => ({
      ...(store.products.has(id) ? { product_id: id } : { stock_item_id: id }),
      ...(quantities.has(id) ? quantityBody(quantities.get(id), "counted") : { counted: counted.get(id) }),
    })),
  };
  try {
    const result = await api.post(`/api/bars/${store.bar.id}/stock-counts`, body);
    store.applyStock(result.stock, result.seq);
    const value = result.lines.reduce((sum, l) => sum + (l.variance_value ?? 0), 0);
    message.dataset.outcome = "ok";
    message.textContent = tn("count.done", result.lines.length, { value: money(value, view.currency) });
    counted.clear();
    quantities.clear();
    draft.requestId = uuid4();
    view.reload();
    drawRows(view);
    replace(view.summary);
  } catch (err) {
    // counts[i] of the body is a product's or an item's line: its inputs show the refusal
    const names = Object.fromEntries(ids.flatMap((id, i) => [
      [`counts[${i}].counted`, `counted-${id}`], [`counts[${i}].units`, `counted-${id}`],
      [`counts[${i}].packs`, `packs-${id}`], [`counts[${i}].pack`, `pack-${id}`], [`counts[${i}].tenths`, `tenths-${id}`],
    ]));
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
    draft, counted: draft.counted, quantities: draft.quantities, currency: store.bar.currency, // counted: only lines the manager filled
    shelf: null, items: new Map(), // stock items once read (packs, items that are no product)
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
  let open = true;
  view.reload = async () => {
    try {
      const shelf = await loadShelf();
      if (!open) return;
      view.shelf = shelf;
      view.items = new Map(shelfItems(shelf).map((i) => [i.id, i]));
      // same lines with the same packs: update in place, so a figure being typed keeps its focus
      const shape = (list) => list.map((e) => `${e.id}:${JSON.stringify(e.packs)}`).join();
      const rows = [...view.table.querySelectorAll("tbody tr")];
      const shown = rows.map((row) => ({ id: row.dataset.itemId, packs: JSON.parse(row.dataset.packs || "[]") }));
      if (shape(shown) === shape(entries(view))) rows.forEach((row) => updateRow(view, row, entryOf(view, row.dataset.itemId)));
      else drawRows(view);
      if (view.counted.size) drawSummary(view, Boolean(view.summary.querySelector(".confirm")));
    } catch {
      // offline or refused: products are counted as their own items, in units
    }
  };
  view.reload();
  const reloadSoon = debounce(view.reload, 500); // items' own levels are not in stock messages
  const offs = [
    () => { open = false; },
    store.on("stock", (ids) => {
      for (const id of ids) {
        const row = view.table.querySelector(`tr[data-product-id="${id}"]`);
        if (row) updateRow(view, row, entryOf(view, id));
      }
      if (view.shelf && view.shelf.items.some((i) => !store.products.has(i.id))) reloadSoon();
      if (view.summary.querySelector(".confirm")) drawSummary(view, true); else if (view.counted.size) drawSummary(view, false);
    }),
    store.on("products", () => drawRows(view)),
  ];
  return () => offs.forEach((off) => off());
}

registerScreen({ id: "count", titleKey: "nav.count", icon: "🧮", roles: ["owner", "manager"], order: 40, render });
