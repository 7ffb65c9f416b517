// Manager: today's figures (business day): sales, revenue, best sellers, low stock. Live.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, money } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api } from "../api.js";
import { problemText } from "../errors.js";

function render(container) {
  const box = h("div", { class: "stats", id: "today-stats" });
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.today")), box));

  async function load() {
    try {
      const s = await api.get(`/api/bars/${store.bar.id}/stats/today`);
      const currency = store.bar.currency;
      replace(box,
        h("div", { class: "cards" },
          h("div", { class: "card" }, h("span", {}, t("today.sales")), h("strong", { id: "today-count" }, number(s.sales_count))),
          h("div", { class: "card" }, h("span", {}, t("today.revenue")), h("strong", { id: "today-revenue" }, money(s.revenue, currency))),
          h("div", { class: "card" }, h("span", {}, t("today.date")), h("strong", {}, s.business_date))),
        h("h2", {}, t("today.top")),
        s.top_products.length === 0 ? h("p", { class: "muted" }, t("today.nothing")) : h("table", { class: "data" },
          h("tbody", {}, s.top_products.map((p) => h("tr", {}, h("th", { scope: "row" }, p.name),
            h("td", { class: "num" }, number(p.qty)), h("td", { class: "num" }, money(p.revenue, currency)))))),
        h("h2", {}, t("today.low")),
        s.low_stock.length === 0 ? h("p", { class: "muted" }, t("today.no_low")) : h("ul", { class: "low-list" },
          s.low_stock.map((p) => h("li", {}, h("span", { class: `dot ${p.stock <= 0 ? "out" : "low"}` }), `${p.name}: ${number(p.stock)} / ${number(p.low_threshold)}`))));
    } catch (err) {
      replace(box, h("p", { class: "error" }, problemText(err)));
    }
  }
  load();
  return store.on("stock", debounce(load, 400));
}

registerScreen({ id: "today", titleKey: "nav.today", icon: "📊", roles: ["owner", "manager"], order: 15, render });
