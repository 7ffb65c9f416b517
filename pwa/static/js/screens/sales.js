// Manager: the sales list, newest first, a page at a time; void a sale with a reason.
// Live: new sales appear at the top as they are made.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, money, dateTime } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api } from "../api.js";
import { problemText } from "../errors.js";
import { returnSale } from "./till.js";

const PAGE = 20;

function render(container) {
  const list = h("ol", { class: "sales", id: "sales-list" });
  const more = h("button", { type: "button", class: "ghost", id: "sales-more", hidden: true }, t("sales.more"));
  const message = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  let sales = [];
  let next = null;
  const name = (id) => store.products.get(id)?.name || "?";

  async function load(reset) {
    const cursor = reset ? "" : `&before=${encodeURIComponent(next)}`;
    try {
      const body = await api.get(`/api/bars/${store.bar.id}/sales?limit=${PAGE}${cursor}`);
      if (reset) {
        // a fresh first page on top of what is already loaded (newer sales, updated voids)
        const fresh = new Set(body.sales.map((s) => s.id));
        const older = sales.filter((s) => !fresh.has(s.id));
        if (older.length === 0) next = body.next;
        sales = [...body.sales, ...older];
      } else {
        sales = [...sales, ...body.sales];
        next = body.next;
      }
      draw();
    } catch (err) {
      message.textContent = problemText(err);
    }
  }

  function draw() {
    const currency = store.bar.currency;
    more.hidden = !next;
    replace(list, sales.length === 0 ? h("li", { class: "muted" }, t("sales.none")) : sales.map((s) => h("li", {
      class: s.voided_at ? "sale voided" : "sale", dataset: { saleId: s.id },
    },
    h("span", { class: "num" }, `#${s.number}`),
    h("span", { class: "muted" }, dateTime(s.occurred_at || s.created_at)),
    h("span", { class: "items" }, s.items.map((i) => `${number(i.qty)} × ${name(i.product_id)}`).join(", ")),
    h("strong", {}, money(s.total, currency)),
    s.voided_at ? h("span", { class: "badge rejected" }, t("sales.voided", { reason: s.void_reason })) : voidControl(s),
    // issue 16: a return of this sale, on the Returns & waste screen
    s.voided_at ? null : h("a", { class: "button ghost return", href: "#/corrections", onclick: () => returnSale(s) }, t("sales.return")))));
  }

  function voidControl(sale) {
    const holder = h("span", { class: "void" });
    const open = h("button", { type: "button", class: "ghost", onclick: () => {
      const reason = h("input", { name: "reason", required: true, maxlength: 500, "aria-label": t("sales.reason") });
      const form = h("form", { class: "inline" }, reason,
        h("button", { type: "submit", class: "danger" }, t("sales.void_confirm")),
        h("button", { type: "button", class: "ghost", onclick: () => replace(holder, open) }, t("common.cancel")));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!reason.value.trim()) { reason.focus(); return; }
        try {
          const voided = await api.post(`/api/bars/${store.bar.id}/sales/${sale.id}/void`, { reason: reason.value.trim() });
          store.applyStock(voided.stock, voided.void_seq);
          sales = sales.map((s) => (s.id === voided.id ? { ...s, ...voided } : s));
          draw();
        } catch (err) {
          message.textContent = problemText(err);
        }
      });
      replace(holder, form);
      reason.focus();
    } }, t("sales.void"));
    holder.append(open);
    return holder;
  }

  more.addEventListener("click", () => load(false));
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.sales")), message, list, more));
  load(true);
  const off = store.on("stock", debounce(() => {
    if (!list.querySelector("form")) load(true); // never redraw under a half-typed reason
  }, 400));
  return off;
}

registerScreen({ id: "sales", titleKey: "nav.sales", icon: "🧾", roles: ["owner", "manager"], order: 50, render });
