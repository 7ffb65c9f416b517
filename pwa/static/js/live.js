// Live stock for the open bar, per the contract's "Live stock over WebSocket":
// auth -> subscribe(since) -> snapshot or missed messages -> mode -> live `stock` messages.
// A jump in seq re-subscribes with the last seq; in `poll` mode (or when the socket cannot
// be opened, or closed with 4429) the stock endpoint is polled with If-None-Match at the
// interval the server gave; lost sockets reconnect with exponential backoff and jitter.
//
// The socket and polling feed the store through one path, `update()`. Everything this class
// touches outside itself (WebSocket, fetch, timers, randomness, online events, the store)
// comes through the constructor, so pwa/tests/live.test.mjs drives it under `node --test`
// with fakes, in milliseconds.

import { accessToken } from "./auth.js";
import { rawRequest } from "./api.js";
import { store as pageStore } from "./store.js";

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const PROBE_WITHIN_MS = 3000; // a sale had no answer: is the socket still passing traffic?
const OPEN = 1; // WebSocket.OPEN

function browserEnvironment() {
  return {
    WebSocket: globalThis.WebSocket,
    request: rawRequest,
    token: accessToken,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id),
    random: Math.random,
    now: () => Date.now(),
    online: () => navigator.onLine,
    events: globalThis.window ?? null,
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
  };
}

export class LiveStock {
  /** `env` replaces any of browserEnvironment()'s members; `store` the page's store. */
  constructor(barId, { store = pageStore, ...env } = {}) {
    this.barId = barId;
    this.store = store;
    this.env = { ...(typeof location === "undefined" ? {} : browserEnvironment()), ...env };
    this.ws = null;
    this.mode = "push";
    this.pollIntervalMs = 5000;
    this.subscribed = false;
    this.backoffMs = 500;
    this.stopped = false;
    this.timers = { poll: null, reconnect: null, ping: null, pong: null };
    this.onOnline = () => { this.backoffMs = 500; this.connect(); this.pollNow(); };
    this.onOffline = () => this.store.setConn("offline");
  }

  start() {
    this.env.events?.addEventListener("online", this.onOnline);
    this.env.events?.addEventListener("offline", this.onOffline);
    this.offNoAnswer = this.store.on("no-answer", () => this.probe());
    this.connect();
    this.schedulePoll(0); // until the socket is subscribed, polling keeps the page current
  }

  stop() {
    this.stopped = true;
    this.offNoAnswer?.();
    this.env.events?.removeEventListener("online", this.onOnline);
    this.env.events?.removeEventListener("offline", this.onOffline);
    Object.values(this.timers).forEach((t) => this.env.clearTimeout(t));
    if (this.ws) { this.ws.onclose = null; this.ws.close(1000); }
  }

  get pushing() { return this.subscribed && this.mode === "push"; }

  updateBadge() {
    if (!this.env.online()) this.store.setConn("offline");
    else if (this.pushing) this.store.setConn("live");
  }

  /**
   * The one way stock reaches the store, from the socket and from polls. `snapshot`: the whole
   * stock at `seq`. Otherwise `changes` are everything after `after` up to `seq`: applied when
   * they follow what the store has (overlaps are harmless: older values are ignored per
   * product); false when something between is missing (the caller asks again).
   */
  update({ seq, after, changes, snapshot }) {
    this.store.noteContact();
    if (snapshot) { this.store.applySnapshot(snapshot, seq); return true; }
    if (seq <= this.store.seq) return true; // already applied
    if (after > this.store.seq) return false; // a gap
    this.store.applyStock(changes, seq, { advance: true });
    return true;
  }

  // --- websocket ---
  connect() {
    if (this.stopped || (this.ws && this.ws.readyState <= OPEN)) return;
    this.env.clearTimeout(this.timers.reconnect);
    let ws;
    try { ws = new this.env.WebSocket(this.env.url); } catch { this.reconnectLater(); return; }
    this.ws = ws;
    this.subscribed = false;
    ws.onopen = async () => {
      try {
        ws.send(JSON.stringify({ type: "auth", token: await this.env.token() }));
      } catch { ws.close(4000); }
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => this.closed(event.code);
  }

  closed(code) {
    this.ws = null;
    this.subscribed = false;
    this.env.clearTimeout(this.timers.ping);
    this.env.clearTimeout(this.timers.pong);
    if (this.stopped) return;
    if (code === 4401) this.env.token({ force: true }).catch(() => null);
    if (code === 4429) this.backoffMs = Math.max(this.backoffMs, 15_000);
    if (code === 1012) this.backoffMs = 500;
    this.schedulePoll(0);
    this.reconnectLater();
  }

  reconnectLater() {
    const delay = this.backoffMs * (0.75 + this.env.random() * 0.5);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.timers.reconnect = this.env.setTimeout(() => this.connect(), delay);
  }

  send(message) {
    if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(message));
  }

  subscribe() {
    this.send({ type: "subscribe", bar_id: this.barId, since: this.store.seq || null });
  }

  heartbeat() {
    this.env.clearTimeout(this.timers.ping);
    this.timers.ping = this.env.setTimeout(() => {
      this.send({ type: "ping", t: this.env.now() });
      this.timers.pong = this.env.setTimeout(() => this.ws && this.ws.close(4000), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  /**
   * Wi-Fi that is connected but passes no traffic leaves the socket "open" and the badge on
   * "Online" until the next heartbeat (25 s + 10 s). When a sale gets no answer, ask at once:
   * no pong within PROBE_WITHIN_MS says "Offline" and reconnects.
   */
  probe() {
    if (!this.ws || this.ws.readyState !== OPEN) return;
    this.send({ type: "ping", t: this.env.now() });
    this.env.clearTimeout(this.timers.pong);
    this.timers.pong = this.env.setTimeout(() => {
      this.store.setConn("offline");
      this.ws?.close(4000);
    }, PROBE_WITHIN_MS);
  }

  receive(raw) {
    let msg;
    try { msg = JSON.parse(raw); } catch { return; }
    this.heartbeat();
    const ours = msg.bar_id === this.barId;
    switch (msg.type) {
      case "ready":
        this.store.noteContact();
        this.backoffMs = 500;
        this.subscribe();
        break;
      case "snapshot":
        if (!ours) return;
        this.update({ seq: msg.seq, snapshot: msg.stock });
        this.subscribed = true;
        break;
      case "stock":
        if (!ours) return;
        if (!this.update({ seq: msg.seq, after: msg.seq - 1, changes: msg.changes })) {
          this.subscribe(); // gap: ask for what we missed
          return;
        }
        this.subscribed = true;
        break;
      case "mode":
        if (!ours) return;
        this.store.noteContact();
        this.subscribed = true;
        this.store.noteCatalog(msg.catalog_seq);
        this.setMode(msg.mode, msg.poll_interval_ms);
        break;
      case "catalog": // additive: a product was created or edited on another device
        if (!ours) return;
        this.store.upsertProduct(msg.product, msg.catalog_seq);
        break;
      case "pong":
        this.store.noteContact();
        this.env.clearTimeout(this.timers.pong);
        break;
      case "error":
        if (msg.code === "forbidden") this.stop();
        break;
      default:
        break;
    }
    this.updateBadge();
  }

  setMode(mode, intervalMs) {
    this.mode = mode;
    if (intervalMs) this.pollIntervalMs = intervalMs;
    if (mode === "push") {
      this.env.clearTimeout(this.timers.poll);
      this.timers.poll = null;
    } else {
      this.store.setConn("polling");
      this.schedulePoll(this.pollIntervalMs);
    }
  }

  // --- polling ---
  schedulePoll(delayMs) {
    this.env.clearTimeout(this.timers.poll);
    this.timers.poll = this.env.setTimeout(() => this.pollNow(), delayMs);
  }

  async pollNow() {
    if (this.stopped || this.pushing) return;
    const since = this.store.seq;
    try {
      const response = await this.env.request("GET", `/api/bars/${this.barId}/stock?since=${since}`,
        { headers: { "If-None-Match": `"${since}"` }, timeoutMs: 10_000 });
      if (response.status === 200) {
        const body = await response.json();
        if (body.poll_interval_ms) this.pollIntervalMs = body.poll_interval_ms;
        this.store.noteCatalog(body.catalog_seq);
        // the answer covers everything after `since`: the store may have moved on meanwhile
        this.update({ seq: body.seq, after: since, changes: body.changes || [], snapshot: body.snapshot });
      } else if (response.status === 304) this.store.noteContact();
      if (response.ok || response.status === 304) {
        if (!this.pushing) this.store.setConn("polling");
      }
    } catch {
      this.store.setConn("offline");
    }
    if (!this.pushing && !this.stopped) this.schedulePoll(this.pollIntervalMs);
  }
}
