// Manager: the movement ledger of one product (every sale, delivery, void and count that
// moved its stock, with the stock after each). Live: new movements are appended.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, dateTime } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api } from "../api.js";

const PAGE = 200;

function productFromHash() {
  return new URLSearchParams(location.hash.split("?")[1] || "").get("product");
}

function render(container, ctx) {
  const products = [...store.products.values()].sort((a, b) => a.name.localeCompare(b.name));
  const chosen = productFromHash() || products[0]?.id || "";
  const select = h("select", { id: "ledger-product" }, products.map((p) => h("option", { value: p.id, selected: p.id === chosen }, p.name)));
  const table = h("table", { class: "data", id: "ledger-table" });
  const more = h("button", { type: "button", class: "ghost", hidden: true }, t("ledger.more"));
  let movements = [];
  let afterSeq = 0;

  async function load() {
    if (!select.value) return;
    const body = await api.get(`/api/bars/${store.bar.id}/movements?product_id=${select.value}&after_seq=${afterSeq}&limit=${PAGE}`);
    movements = [...movements, ...body.movements];
    if (body.movements.length) afterSeq = body.movements[body.movements.length - 1].seq;
    more.hidden = body.movements.length < PAGE;
    draw();
  }

  function draw() {
    replace(table,
      h("thead", {}, h("tr", {}, ["ledger.seq", "ledger.at", "ledger.kind", "ledger.delta", "ledger.after"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, [...movements].reverse().map((m) => h("tr", { dataset: { seq: String(m.seq) } },
        h("td", { class: "num" }, number(m.seq)), h("td", {}, dateTime(m.at)), h("td", {}, t(`kind.${m.kind}`)),
        h("td", { class: `num ${m.delta < 0 ? "neg" : "pos"}` }, m.delta > 0 ? `+${number(m.delta)}` : number(m.delta)),
        h("td", { class: "num" }, number(m.stock_after))))));
  }

  select.addEventListener("change", () => {
    movements = [];
    afterSeq = 0;
    history.replaceState(null, "", `#/ledger?product=${select.value}`);
    load();
  });
  more.addEventListener("click", load);
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.ledger")),
    h("label", { class: "field" }, h("span", {}, t("ledger.product")), select), h("div", { class: "scroll" }, table), more));
  load().catch(() => null);
  return store.on("stock", debounce(() => load().catch(() => null), 300));
}

registerScreen({ id: "ledger", titleKey: "nav.ledger", icon: "📜", roles: ["owner", "manager"], order: 60, render });
