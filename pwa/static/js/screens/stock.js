// Manager: the stock table, sortable, lowest (relative to its threshold) first, live.

import { registerScreen } from "../screens.js";
import { store, stockLevel } from "../store.js";
import { t, number } from "../i18n.js";
import { h, replace } from "../ui.js";
import { emptyState } from "./start.js";

const LEVEL_ORDER = { out: 0, low: 1, ok: 2 };
const COLUMNS = [
  { key: "level", label: "stock.status", value: (p) => LEVEL_ORDER[stockLevel(p)] * 1e9 + p.stock - p.low_threshold },
  { key: "name", label: "product.name", value: (p) => p.name.toLocaleLowerCase() },
  { key: "category", label: "product.category", value: (p) => p.category.toLocaleLowerCase() },
  { key: "stock", label: "stock.stock", value: (p) => p.stock, numeric: true },
  { key: "low_threshold", label: "product.low_threshold", value: (p) => p.low_threshold, numeric: true },
  { key: "par_level", label: "product.par_level", value: (p) => p.par_level, numeric: true },
];
let sort = { key: "level", dir: 1 };

function render(container, ctx) {
  const table = h("table", { class: "data stack sortable", id: "stock-table" });
  const section = h("section", { class: "panel" }, h("h1", {}, t("nav.stock")), h("div", { class: "scroll" }, table));
  container.append(section);

  function draw() {
    section.querySelector(".empty-state")?.remove();
    if (![...store.products.values()].some((p) => p.active)) { replace(table); section.append(emptyState("products")); return; }
    const column = COLUMNS.find((c) => c.key === sort.key);
    const rows = [...store.products.values()].filter((p) => p.active).sort((a, b) => {
      const va = column.value(a);
      const vb = column.value(b);
      return (va < vb ? -1 : va > vb ? 1 : a.name.localeCompare(b.name)) * sort.dir;
    });
    replace(table,
      h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", {
        scope: "col", class: c.numeric ? "num" : null,
        "aria-sort": sort.key === c.key ? (sort.dir > 0 ? "ascending" : "descending") : "none",
      }, h("button", { type: "button", class: "sort", onclick: () => {
        sort = { key: c.key, dir: sort.key === c.key ? -sort.dir : 1 };
        draw();
      } }, t(c.label)))))),
      h("tbody", {}, rows.map((p) => {
        const level = stockLevel(p);
        return h("tr", { dataset: { productId: p.id, level } },
          h("td", { "data-label": t("stock.status") }, h("span", { class: `dot ${level}` }), t(`level.${level}`)),
          h("th", { scope: "row" }, h("a", { href: `#/ledger?product=${p.id}`, onclick: () => ctx.navigate(`ledger?product=${p.id}`) }, p.name)),
          h("td", { "data-label": t("product.category") }, p.category),
          h("td", { class: "num stock", "data-label": t("stock.stock") }, number(p.stock)),
          h("td", { class: "num", "data-label": t("product.low_threshold") }, number(p.low_threshold)),
          h("td", { class: "num", "data-label": t("product.par_level") }, number(p.par_level)));
      })));
  }
  const offs = [store.on("stock", draw), store.on("products", draw)];
  draw();
  return () => offs.forEach((off) => off());
}

registerScreen({ id: "stock", titleKey: "nav.stock", icon: "📦", roles: ["owner", "manager"], order: 20, render });
