// Manager: the movement ledger of one product (every sale, delivery, void and count that moved
// its stock, with the stock after each), newest first, optionally one day only. Live: new
// movements appear on top.
//
// The API pages the ledger forwards from a seq (`after_seq`, ascending). Newest first is read
// backwards in windows of seqs: (hi - WINDOW, hi] holds at most WINDOW movements of one product
// (one per transaction), so one request per window, from the bar's current seq down.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t, number, dateTime } from "../i18n.js";
import { h, replace, debounce } from "../ui.js";
import { api } from "../api.js";
import { problemText } from "../errors.js";

const WINDOW = 1000; // seqs per request (the API's largest page)
const PAGE = 50; // movements shown per "older" tap
const MAX_REQUESTS = 25; // per tap, for a product that rarely moves in a busy bar

function productFromHash() {
  return new URLSearchParams(location.hash.split("?")[1] || "").get("product");
}

function render(container) {
  const products = [...store.products.values()].sort((a, b) => a.name.localeCompare(b.name));
  const chosen = productFromHash() || products[0]?.id || "";
  const select = h("select", { id: "ledger-product", name: "product" }, products.map((p) => h("option", { value: p.id, selected: p.id === chosen }, p.name)));
  const day = h("input", { type: "date", id: "ledger-day", name: "day" });
  const clearDay = h("button", { type: "button", class: "ghost", id: "ledger-day-clear", hidden: true }, t("ledger.all_days"));
  const table = h("table", { class: "data stack", id: "ledger-table" });
  const more = h("button", { type: "button", class: "ghost", id: "ledger-more", hidden: true }, t("ledger.more"));
  const message = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  // the bar's calendar day of a movement (its time zone, not the phone's)
  const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone: store.bar.timezone, year: "numeric", month: "2-digit", day: "2-digit" });
  let rows = []; // newest first
  let hi = 0; // everything above this seq is loaded
  let top = 0; // the newest seq loaded (live updates fetch above it)
  let loading = false;
  let generation = 0; // bumped when the product or day changes: late answers are dropped

  function reset() {
    rows = [];
    hi = store.seq;
    top = store.seq;
  }

  async function between(lo, upto) {
    const limit = Math.max(1, Math.min(WINDOW, upto - lo));
    const body = await api.get(`/api/bars/${store.bar.id}/movements?product_id=${select.value}&after_seq=${lo}&limit=${limit}`);
    return body.movements.filter((m) => m.seq <= upto);
  }

  /** Older movements until a page is shown (or, for one day, until that day is passed). */
  async function loadOlder(gen) {
    if (!select.value) return;
    const wanted = shown().length + PAGE;
    for (let i = 0; i < MAX_REQUESTS && hi > 0; i++) {
      const lo = Math.max(0, hi - WINDOW);
      const older = await between(lo, hi);
      if (gen !== generation) return;
      rows.push(...older.reverse());
      hi = lo;
      if (day.value && rows.length && dayOf.format(new Date(rows[rows.length - 1].at)) < day.value) break;
      if (!day.value && shown().length >= wanted) break;
    }
    more.hidden = hi === 0 || (day.value && rows.length > 0 && dayOf.format(new Date(rows[rows.length - 1].at)) < day.value);
    draw();
  }

  async function loadNewer(gen) {
    if (!select.value || top >= store.seq) return;
    const upto = store.seq;
    const from = top;
    top = upto;
    let newer;
    try {
      newer = await between(from, upto);
    } catch (err) {
      if (gen === generation) top = Math.min(top, from); // asked again at the next change
      throw err;
    }
    if (gen !== generation) return;
    rows.unshift(...newer.reverse());
    draw();
  }

  function shown() {
    return day.value ? rows.filter((m) => dayOf.format(new Date(m.at)) === day.value) : rows;
  }

  function draw() {
    const list = shown();
    if (list.length === 0) {
      replace(table);
      message.textContent = loading ? "" : t(day.value ? "ledger.none_that_day" : "ledger.none");
      return;
    }
    message.textContent = "";
    replace(table,
      h("thead", {}, h("tr", {}, ["ledger.at", "ledger.kind", "ledger.delta", "ledger.after"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, list.map((m) => h("tr", { dataset: { seq: String(m.seq) } },
        h("th", { scope: "row" }, dateTime(m.at)),
        h("td", { "data-label": t("ledger.kind") }, t(`kind.${m.kind}`)),
        h("td", { class: `num ${m.delta < 0 ? "neg" : "pos"}`, "data-label": t("ledger.delta") }, m.delta > 0 ? `+${number(m.delta)}` : number(m.delta)),
        h("td", { class: "num", "data-label": t("ledger.after") }, number(m.stock_after))))));
  }

  function run(work) {
    const gen = generation;
    loading = true;
    return work(gen)
      .catch((err) => { if (gen === generation) message.textContent = problemText(err); })
      .finally(() => { if (gen === generation) { loading = false; draw(); } });
  }

  function restart() {
    generation++;
    reset();
    run(loadOlder);
  }

  select.addEventListener("change", () => {
    history.replaceState(null, "", `#/ledger?product=${select.value}`);
    restart();
  });
  day.addEventListener("change", () => {
    clearDay.hidden = !day.value;
    restart();
  });
  clearDay.addEventListener("click", () => { day.value = ""; clearDay.hidden = true; restart(); });
  more.addEventListener("click", () => { if (!loading) run(loadOlder); });
  container.append(h("section", { class: "panel" }, h("h1", {}, t("nav.ledger")),
    h("div", { class: "row wrap" },
      h("label", { class: "field" }, h("span", {}, t("ledger.product")), select),
      h("label", { class: "field small" }, h("span", {}, t("ledger.day")), day), clearDay),
    message, h("div", { class: "scroll" }, table), more));
  restart();
  return store.on("stock", debounce(() => run(loadNewer), 300));
}

registerScreen({ id: "ledger", titleKey: "nav.ledger", icon: "📜", roles: ["owner", "manager"], order: 60, render });
