// Manager: the catalogue. Many products at once (a grid of rows, or lines pasted from a
// spreadsheet: name, category, price, cost, low at, par level), each row checked on its own
// and its refusals shown in that row; then edit, deactivate and reactivate one by one.
// An empty price is an error, never 0.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, tn, money, parseMoney, currencyDecimals, number } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api } from "../api.js";
import { showErrors, clearErrors, markField, problemText } from "../errors.js";
import { emptyState } from "./start.js";

const COLUMNS = ["name", "category", "price", "cost", "low_threshold", "par_level"];
const DEFAULTS = { low_threshold: "5", par_level: "24" };

function render(container) {
  const currency = store.bar.currency;
  const list = h("table", { class: "data stack", id: "products-table" });
  const message = h("p", { class: "feedback", id: "products-feedback", role: "status", "aria-live": "polite" });
  const editor = h("div", { id: "product-editor" });
  let all = [];
  const step = currencyDecimals(currency) ? String(10 ** -currencyDecimals(currency)) : "1";
  const asText = (minor) => (minor === null || minor === undefined ? "" : String(minor / 10 ** currencyDecimals(currency)));

  async function load() {
    const body = await api.get(`/api/bars/${store.bar.id}/products`);
    all = body.products;
    draw();
  }

  function draw() {
    if (all.length === 0) { replace(list); return; }
    const label = (key) => t(key);
    replace(list,
      h("thead", {}, h("tr", {}, ["product.name", "product.category", "product.price", "product.cost", "product.low_threshold", "product.par_level", "product.active", ""].map((k) => h("th", { scope: "col" }, k ? t(k) : "")))),
      h("tbody", {}, all.map((p) => h("tr", { class: p.active ? "" : "inactive", dataset: { productId: p.id } },
        h("th", { scope: "row" }, p.name),
        h("td", { "data-label": label("product.category") }, p.category),
        h("td", { class: "num", "data-label": label("product.price") }, money(p.price, currency)),
        h("td", { class: "num", "data-label": label("product.cost") }, money(p.cost, currency)),
        h("td", { class: "num", "data-label": label("product.low_threshold") }, number(p.low_threshold)),
        h("td", { class: "num", "data-label": label("product.par_level") }, number(p.par_level)),
        h("td", { "data-label": label("product.active") }, p.active ? t("common.yes") : t("common.no")),
        h("td", { class: "actions" },
          h("button", { type: "button", class: "ghost", onclick: () => edit(p) }, t("common.edit")),
          h("button", { type: "button", class: "ghost", onclick: () => save(p, { active: !p.active }) }, p.active ? t("product.deactivate") : t("product.activate")))))));
  }

  // ---------- one product ----------
  function edit(p) {
    const form = h("form", { class: "panel-inner", novalidate: true },
      h("h2", {}, p ? t("product.edit", { name: p.name }) : t("product.new")),
      h("div", { class: "row wrap" },
        h("label", { class: "field" }, h("span", {}, t("product.name")), h("input", { name: "name", required: true, maxlength: 100, value: p?.name || "" })),
        h("label", { class: "field" }, h("span", {}, t("product.category")), h("input", { name: "category", required: true, maxlength: 100, value: p?.category || "" })),
        h("label", { class: "field small" }, h("span", {}, t("product.price_in", { currency })), h("input", { name: "price", type: "number", min: 0, step, required: true, value: asText(p?.price) })),
        h("label", { class: "field small" }, h("span", {}, t("product.cost_in", { currency })), h("input", { name: "cost", type: "number", min: 0, step, value: asText(p?.cost) })),
        h("label", { class: "field small" }, h("span", {}, t("product.low_threshold")), h("input", { name: "low_threshold", type: "number", min: 0, required: true, value: p?.low_threshold ?? 5 })),
        h("label", { class: "field small" }, h("span", {}, t("product.par_level")), h("input", { name: "par_level", type: "number", min: 0, required: true, value: p?.par_level ?? 24 }))),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => replace(editor, buttons()) }, t("common.cancel")),
        h("button", { type: "submit", class: "primary" }, t("common.save"))));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = readRow(form);
      if (body) save(p, body, form);
    });
    replace(editor, form);
    form.elements.name.focus();
  }

  async function save(p, body, form = null) {
    try {
      if (p) await api.patch(`/api/bars/${store.bar.id}/products/${p.id}`, body);
      else await api.post(`/api/bars/${store.bar.id}/products`, body);
      message.dataset.outcome = "ok";
      message.textContent = t("common.saved");
      replace(editor, buttons());
      await refresh();
    } catch (err) {
      if (form) showErrors(form, err, { summary: message });
      else { message.dataset.outcome = "error"; message.textContent = problemText(err); }
    }
  }

  async function refresh() {
    await load();
    store.setProducts(store.seq, all.filter((x) => x.active || store.products.has(x.id)).map((x) => ({ ...x, stock: store.products.get(x.id)?.stock ?? x.stock })));
  }

  /**
   * A product body from a form or a bulk row, or null after marking what is wrong in it.
   * `fallbackCategory` fills an empty category (the row above's, as in a spreadsheet).
   */
  function readRow(root, fallbackCategory = "") {
    clearErrors(root);
    const value = (name) => root.querySelector(`[name="${name}"]`).value.trim();
    const input = (name) => root.querySelector(`[name="${name}"]`);
    const body = { name: value("name"), category: value("category") || fallbackCategory };
    if (!body.name) markField(input("name"), t("error.field.required"));
    if (!body.category) markField(input("category"), t("error.field.required"));
    const price = value("price");
    body.price = parseMoney(price, currency);
    if (price === "") markField(input("price"), t("error.field.price_required"));
    else if (Number.isNaN(body.price)) markField(input("price"), t("error.field.number"));
    else if (body.price < 0) markField(input("price"), t("error.field.min", { n: number(0) }));
    const cost = value("cost");
    body.cost = cost === "" ? null : parseMoney(cost, currency);
    if (Number.isNaN(body.cost)) markField(input("cost"), t("error.field.number"));
    else if (body.cost < 0) markField(input("cost"), t("error.field.min", { n: number(0) }));
    for (const key of ["low_threshold", "par_level"]) {
      const text = value(key) || DEFAULTS[key];
      body[key] = Number(text);
      if (!Number.isInteger(body[key]) || body[key] < 0) markField(input(key), t("error.field.whole_number"));
    }
    return root.querySelector("[aria-invalid]") ? null : body;
  }

  // ---------- many products ----------
  function bulkRow(values = {}) {
    const cell = (name, attrs) => h("label", { class: `field bulk-${name}` },
      h("span", {}, name === "price" ? t("product.price_in", { currency }) : name === "cost" ? t("product.cost_in", { currency }) : t(`product.${name}`)),
      h("input", { name, value: values[name] ?? DEFAULTS[name] ?? "", autocomplete: "off", ...attrs }));
    const row = h("div", { class: "bulk-row" },
      cell("name", { maxlength: 100 }), cell("category", { maxlength: 100 }),
      cell("price", { inputmode: "decimal" }), cell("cost", { inputmode: "decimal" }),
      cell("low_threshold", { inputmode: "numeric" }), cell("par_level", { inputmode: "numeric" }));
    return row;
  }

  function bulkForm(rowCount) {
    const rows = h("div", { class: "bulk-rows", id: "bulk-rows" });
    const status = h("p", { class: "feedback", id: "bulk-feedback", role: "status", "aria-live": "polite" });
    const addRows = (n) => { for (let i = 0; i < n; i++) rows.append(bulkRow()); };
    const form = h("form", { class: "panel-inner", id: "bulk-form", novalidate: true },
      h("h2", {}, t("product.bulk_title")),
      h("p", { class: "muted" }, t("product.bulk_hint")),
      rows,
      h("div", { class: "row wrap" },
        h("button", { type: "button", class: "ghost", id: "bulk-more", onclick: () => addRows(5) }, t("product.bulk_more")),
        h("button", { type: "button", class: "ghost", onclick: () => replace(editor, buttons()) }, t("common.cancel")),
        h("button", { type: "submit", class: "primary", id: "bulk-submit" }, t("product.bulk_submit"))),
      status);
    addRows(rowCount);
    // Lines pasted from a spreadsheet fill this row and the ones below, column by column.
    rows.addEventListener("paste", (event) => {
      const text = event.clipboardData?.getData("text/plain") || "";
      if (!/[\t\n]/.test(text.trim())) return;
      event.preventDefault();
      const start = [...rows.children].indexOf(event.target.closest(".bulk-row"));
      const lines = text.replace(/\r/g, "").split("\n").filter((line) => line.trim());
      while (rows.children.length < start + lines.length) rows.append(bulkRow());
      const first = COLUMNS.indexOf(event.target.name);
      lines.forEach((line, i) => {
        line.split("\t").forEach((value, j) => {
          const input = rows.children[start + i].querySelector(`[name="${COLUMNS[first + j]}"]`);
          if (input) input.value = value.trim();
        });
      });
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const filled = [...rows.children].filter((row) => [...row.querySelectorAll("input")]
        .some((input) => input.name !== "low_threshold" && input.name !== "par_level" && input.value.trim()));
      if (filled.length === 0) { status.dataset.outcome = "error"; status.textContent = t("product.bulk_empty"); return; }
      // every row is checked before anything is sent: a typo never leaves half a catalogue
      let category = "";
      const bodies = filled.map((row) => {
        const body = readRow(row, category);
        if (body) category = body.category;
        return body;
      });
      const wrong = bodies.filter((b) => !b).length;
      if (wrong) {
        status.dataset.outcome = "error";
        status.textContent = tn("product.bulk_rows_wrong", wrong);
        rows.querySelector("[aria-invalid]")?.focus();
        return;
      }
      const button = form.querySelector("#bulk-submit");
      button.disabled = true;
      let created = 0;
      let refused = 0;
      for (const [i, row] of filled.entries()) {
        try {
          await api.post(`/api/bars/${store.bar.id}/products`, bodies[i]);
          row.remove();
          created++;
        } catch (err) {
          refused++;
          showErrors(row, err);
          if (!row.querySelector("[aria-invalid]")) markField(row.querySelector("[name=name]"), problemText(err));
        }
      }
      button.disabled = false;
      status.dataset.outcome = refused ? "error" : "ok";
      status.textContent = [created ? tn("product.bulk_created", created) : "", refused ? tn("product.bulk_rows_refused", refused) : ""].filter(Boolean).join(" ");
      if (rows.children.length === 0) addRows(3);
      await refresh().catch(() => null);
    });
    return form;
  }

  function buttons() {
    return h("div", { class: "row wrap" },
      h("button", { type: "button", class: "primary", id: "product-bulk", onclick: () => { replace(editor, bulkForm(5)); editor.querySelector("input").focus(); } }, t("product.bulk_open")),
      h("button", { type: "button", class: "ghost", id: "product-new", onclick: () => edit(null) }, t("product.new")));
  }

  const nextStep = h("div", { id: "products-next" });
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.products")), editor, message, nextStep, h("div", { class: "scroll" }, list)));
  replace(editor, buttons());
  load().then(() => {
    if (all.length === 0) replace(editor, h("p", { class: "muted" }, t("start.empty.products")), bulkForm(10));
  }).catch((err) => { message.textContent = problemText(err); });
  // the next step of a new bar, once it has products and no stock yet
  const showNext = () => {
    const products = [...store.products.values()];
    replace(nextStep, products.length && products.every((p) => p.stock === 0) ? emptyState("delivery") : null);
  };
  showNext();
  const offs = [
    store.on("products", showNext),
    store.on("products", debounce(() => { if (!editor.querySelector("form")) load().catch(() => null); }, 300)),
  ];
  return () => offs.forEach((off) => off());
}

registerScreen({ id: "products", titleKey: "nav.products", icon: "🏷️", roles: ["owner", "manager"], order: 70, render });
