// Boot: language, service worker (with the update prompt), session, bar, live stock, outbox,
// then the screen named in the URL hash (#/sell, #/stock, ...). Screens come from the
// registry in screens.js; see the comment there to add one.

import { initI18n, setLang, otherLang, t, tn, onLangChange, number } from "./i18n.js";
import { getSession, logout, onSessionChange, setMemberships } from "./auth.js";
import { api, NetworkError } from "./api.js";
import { kv } from "./db.js";
import { store } from "./store.js";
import { LiveStock } from "./live.js";
import { startSync, kick } from "./sync.js";
import { screensFor, getScreen } from "./screens.js";
import { h, replace, debounce } from "./ui.js";
import { renderLogin } from "./login.js";
import { problemText } from "./errors.js";
import "./screens/index.js";

const STATIC = document.documentElement.dataset.static;
const main = document.getElementById("main");
let live = null;
let cleanup = null;

function $(id) { return document.getElementById(id); }

// ---------- service worker and update prompt ----------
async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.register("/sw.js", { type: "module", scope: "/", updateViaCache: "none" });
    let userAsked = false; // reload only when the user clicked "reload", never mid-sale
    const offer = (worker) => {
      if (!worker || !navigator.serviceWorker.controller) return; // first install: nothing to update
      const banner = $("update-banner");
      replace(banner, h("span", {}, t("update.available")),
        h("button", { type: "button", onclick: () => { userAsked = true; worker.postMessage({ type: "skip-waiting" }); } }, t("update.reload")));
      banner.hidden = false;
    };
    if (registration.waiting) offer(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      worker?.addEventListener("statechange", () => { if (worker.state === "installed") offer(worker); });
    });
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (reloading || !userAsked) return;
      reloading = true;
      location.reload();
    });
    setInterval(() => registration.update().catch(() => null), 30 * 60 * 1000);
  } catch (err) {
    console.warn("service worker not registered", err);
  }
}

// ---------- top bar ----------
function renderTopbar() {
  $("topbar").hidden = !store.session;
  $("bar-name").textContent = store.bar ? store.bar.name : "";
  $("lang-switch").textContent = otherLang().toUpperCase();
  $("lang-switch").setAttribute("aria-label", t("lang.switch"));
  $("menu-button").textContent = "☰";
  $("menu-button").setAttribute("aria-label", t("menu.open"));
  renderConn();
  renderPending();
}

function renderConn() {
  const badge = $("conn-badge");
  badge.hidden = !store.bar; // no bar open: nothing is connected, and nothing is wrong
  badge.dataset.state = store.conn;
  badge.textContent = t(`conn.${store.conn}`);
}

function renderPending() {
  const pending = store.outbox.filter((e) => e.status === "pending").length;
  const rejected = store.outbox.filter((e) => e.status === "rejected").length;
  const badge = $("pending-badge");
  badge.hidden = pending + rejected === 0;
  badge.dataset.pending = String(pending);
  badge.dataset.rejected = String(rejected);
  const label = [pending ? t("outbox.pending_count", { n: number(pending) }) : "",
    rejected ? tn("outbox.rejected_count", rejected) : ""].filter(Boolean).join(", ");
  badge.setAttribute("aria-label", label);
  badge.title = label;
  badge.textContent = [pending ? `⏳ ${number(pending)}` : "", rejected ? `⚠ ${number(rejected)}` : ""].filter(Boolean).join(" ");
}

/** The "⏳ n ⚠ n" badge opens the outbox list of the sell screen (refused sales first). */
function showOutbox() {
  const reveal = () => { const box = $("outbox"); box?.scrollIntoView({ block: "start" }); box?.focus(); };
  if (currentScreenId() === "sell" && main.dataset.screen === "sell") { reveal(); return; }
  window.addEventListener("hashchange", reveal, { once: true }); // after route() drew it
  location.hash = "#/sell";
}

function toggleMenu(open) {
  const menu = $("menu");
  const button = $("menu-button");
  const show = open ?? menu.hidden;
  menu.hidden = !show;
  button.setAttribute("aria-expanded", String(show));
  if (!show) return;
  const memberships = store.session?.memberships || [];
  replace(menu,
    h("p", { class: "who" }, store.session?.user?.name || ""),
    h("button", { type: "button", id: "menu-switch-bar", onclick: () => { toggleMenu(false); pickBar(true); } },
      memberships.length > 1 ? t("menu.switch_bar") : t("menu.bars")),
    h("button", { type: "button", onclick: async () => { toggleMenu(false); await logout(); } }, t("menu.logout")));
  menu.querySelector("button")?.focus();
}

// ---------- navigation ----------
// A phone's bottom bar holds the PHONE_TABS screens used all day and a "More" tab that opens
// the rest, grouped; a tablet lists every screen at the side under its group's heading.
const PHONE_TABS = ["sell", "today", "stock", "delivery"];
const GROUPS = ["daily", "records", "setup"];
const GROUP_OF = {
  sell: "daily", today: "daily", stock: "daily", delivery: "daily", count: "daily",
  sales: "records", ledger: "records", forecast: "records", alerts: "records",
  products: "setup", staff: "setup", start: "setup", settings: "setup",
};
const narrow = window.matchMedia("(max-width: 899px)");

function tabLink(s, current) {
  return h("a", { href: `#/${s.id}`, class: "tab", "aria-current": s.id === current ? "page" : null },
    h("span", { class: "tab-icon", "aria-hidden": "true" }, s.icon), h("span", { class: "tab-label" }, t(s.titleKey)));
}

function grouped(list, current) {
  return GROUPS.map((g) => {
    const members = list.filter((s) => (GROUP_OF[s.id] || s.group || "records") === g);
    return members.length ? h("div", { class: "tab-group", role: "group", "aria-label": t(`nav.group.${g}`) },
      h("span", { class: "tab-group-title", "aria-hidden": "true" }, t(`nav.group.${g}`)), members.map((s) => tabLink(s, current))) : null;
  });
}

function renderTabs() {
  const tabs = $("tabs");
  const list = store.bar ? screensFor(store.bar.role) : [];
  tabs.hidden = list.length < 2;
  const current = currentScreenId();
  if (list.length <= PHONE_TABS.length + 1) { replace(tabs, list.map((s) => tabLink(s, current))); return; }
  if (!narrow.matches) { replace(tabs, grouped(list, current)); return; }
  const shown = list.filter((s) => PHONE_TABS.includes(s.id));
  const rest = list.filter((s) => !PHONE_TABS.includes(s.id));
  const panel = h("div", { class: "more-panel", id: "more-panel", hidden: true }, grouped(rest, current));
  const more = h("button", {
    type: "button", class: "tab", id: "more-tab", "aria-expanded": "false", "aria-controls": "more-panel",
    "aria-current": rest.some((s) => s.id === current) ? "page" : null,
    onclick: () => { panel.hidden = !panel.hidden; more.setAttribute("aria-expanded", String(!panel.hidden)); },
  }, h("span", { class: "tab-icon", "aria-hidden": "true" }, "☰"), h("span", { class: "tab-label" }, t("nav.more")));
  replace(tabs, shown.map((s) => tabLink(s, current)), more, panel);
}
narrow.addEventListener("change", () => { if (store.bar) renderTabs(); });

function closeMore() {
  const panel = $("more-panel");
  if (!panel || panel.hidden) return;
  panel.hidden = true;
  $("more-tab").setAttribute("aria-expanded", "false");
}

function defaultScreen() {
  const role = store.bar?.role;
  const wide = window.matchMedia("(min-width: 900px)").matches;
  if (role && role !== "staff" && ![...store.products.values()].some((p) => p.active)) return "start"; // a new bar
  return role && role !== "staff" && wide ? "stock" : "sell";
}

function currentScreenId() {
  const id = location.hash.replace(/^#\/?/, "").split("?")[0];
  const allowed = store.bar ? screensFor(store.bar.role).map((s) => s.id) : [];
  return allowed.includes(id) ? id : defaultScreen();
}

function route() {
  if (!store.session || !store.bar) return;
  if (cleanup) { try { cleanup(); } catch (err) { console.error(err); } cleanup = null; }
  const screen = getScreen(currentScreenId());
  renderTabs();
  main.replaceChildren();
  main.dataset.screen = screen.id;
  document.title = `${t(screen.titleKey)} · BarTender`;
  cleanup = screen.render(main, { store, api, bar: store.bar, navigate: (id) => { location.hash = `#/${id}`; } }) || null;
}

// ---------- bar and data ----------
// The last known copy opens at once and the server's answer replaces it when it comes
// (`onFresh`): Wi-Fi that is connected but passes no traffic must not keep the app on "…".
// With nothing kept yet, wait for the server.
async function cached(key, load, onFresh) {
  const fresh = load().then(async (value) => { await kv.set(key, value); return value; });
  const kept = await kv.get(key);
  if (kept === undefined) return fresh;
  fresh.then((value) => onFresh?.(value), () => null);
  return kept;
}

async function loadProducts(barId = store.bar.id) {
  const apply = (body) => store.setProducts(body.seq, body.products);
  apply(await cached(`products:${barId}`, () => api.get(`/api/bars/${barId}/products`), apply));
}

const reloadProducts = debounce(async () => {
  const body = await api.get(`/api/bars/${store.bar.id}/products`).catch(() => null);
  if (body) { store.setProducts(body.seq, body.products); kv.set(`products:${store.bar.id}`, body); }
}, 300);

async function openBar(barId) {
  live?.stop();
  const products = loadProducts(barId); // asked beside the bar: one round trip, not two
  products.catch(() => null); // (awaited below, after the bar)
  store.bar = await cached(`bar:${barId}`, () => api.get(`/api/bars/${barId}`), (bar) => {
    if (store.bar?.id === barId) { store.bar = bar; renderTopbar(); }
  });
  await kv.set("bar_id", barId);
  if (store.bar.role !== "staff") await import("./screens/manager.js"); // staff never load them
  await products;
  renderTopbar();
  live = new LiveStock(barId);
  live.start();
  route();
}

/** The memberships as the server knows them now (a bar created or joined since login). */
async function refreshMemberships() {
  try {
    const me = await api.get("/api/auth/me");
    store.session = (await setMemberships(me.memberships)) || store.session;
  } catch (err) {
    if (!(err instanceof NetworkError)) console.warn("memberships not refreshed", err);
  }
  return store.session?.memberships || [];
}

async function pickBar(force = false) {
  let memberships = store.session.memberships || [];
  const saved = await kv.get("bar_id");
  const known = !force && (memberships.some((m) => m.bar_id === saved) || memberships.length === 1);
  if (!known) memberships = await refreshMemberships();
  if (!force && memberships.some((m) => m.bar_id === saved)) return openBar(saved);
  if (!force && memberships.length === 1) return openBar(memberships[0].bar_id);
  live?.stop();
  store.bar = null;
  renderTopbar();
  $("tabs").hidden = true;
  main.dataset.screen = "bars";
  // only people without a bar, or opening another, need the form: staff never download it
  const { createBarForm } = await import("./screens/bar.js");
  const created = async (bar) => {
    await refreshMemberships();
    await openBar(bar.id);
  };
  if (memberships.length === 0) {
    // a new account: its first step is its bar (an invited member gets the bar by email)
    replace(main, h("p", { class: "muted welcome" }, t("bars.none")), createBarForm({ onCreated: created }));
    return;
  }
  replace(main, h("section", { class: "panel narrow", id: "bar-picker" },
    h("h1", {}, t("bars.pick")),
    h("ul", { class: "bar-list" }, memberships.map((m) => h("li", {},
      h("button", { type: "button", class: "big", onclick: () => openBar(m.bar_id) },
        h("strong", {}, m.bar_name), h("span", { class: "muted" }, t(`role.${m.role}`)))))),
    h("button", { type: "button", class: "ghost", id: "bar-new", onclick: () => replace(main,
      createBarForm({ onCreated: created, onCancel: () => pickBar(true) })) }, t("bar.create_another"))));
}

async function showSession(session) {
  store.session = session;
  if (!session) {
    live?.stop();
    live = null;
    store.bar = null;
    renderTopbar();
    $("tabs").hidden = true;
    if (cleanup) { cleanup(); cleanup = null; }
    main.dataset.screen = "login";
    // a first visit's server-rendered form: what was typed there, and where, carries over
    const typed = [...main.querySelectorAll(".prelogin input")].map((input) => [input.name, input.value]);
    const focused = document.activeElement?.closest(".prelogin") ? document.activeElement.name : null;
    renderLogin(main);
    for (const [name, value] of typed) if (value) main.querySelector(`input[name="${name}"]`).value = value;
    if (focused) main.querySelector(`input[name="${focused}"]`)?.focus();
    return;
  }
  try {
    await pickBar();
  } catch (err) {
    replace(main, h("p", { class: "error", role: "alert" }, t("error.load"), " ", problemText(err)));
  }
}

async function boot() {
  await initI18n(STATIC);
  onLangChange(() => {
    renderTopbar();
    if (store.session && store.bar) route();
    else if (store.session) pickBar(true); // the bar picker or the "create a bar" form
    else renderLogin(main);
  });
  $("lang-switch").addEventListener("click", () => setLang(otherLang(), STATIC));
  $("menu-button").addEventListener("click", () => toggleMenu());
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") { toggleMenu(false); closeMore(); } });
  // the phone's "More" panel closes on a tap anywhere else, as a menu does
  document.addEventListener("click", (e) => { if (!e.target.closest?.("#tabs")) closeMore(); });
  window.addEventListener("hashchange", route);
  store.on("conn", renderConn);
  store.on("outbox", renderPending);
  $("pending-badge").addEventListener("click", showOutbox);
  store.on("bar", renderTopbar);
  // Someone with no bar yet (a new account, or staff waiting to be added): coming back to the
  // app re-reads their memberships, and a bar they were added to opens without logging out.
  document.addEventListener("visibilitychange", async () => {
    if (document.visibilityState !== "visible" || !store.session || store.bar) return;
    const before = (store.session.memberships || []).map((m) => m.bar_id).join();
    const now = await refreshMemberships();
    if (!store.bar && now.map((m) => m.bar_id).join() !== before) pickBar(now.length !== 1);
  });
  store.on("unknown-product", reloadProducts);
  onSessionChange((session) => {
    const changedUser = (session?.user?.id || null) !== (store.session?.user?.id || null);
    if (changedUser) {
      showSession(session);
      if (session) kick(); // this seller's sales waiting from an earlier login
    } else store.session = session;
  });
  startSync();
  await showSession(await getSession());
  // after the first screen: its precache downloads must not compete with it on a slow network
  registerWorker();
  document.documentElement.dataset.ready = "1";
}

boot().catch((err) => {
  console.error(err);
  replace(main, h("p", { class: "error", role: "alert" }, String(err.message || err)));
});
