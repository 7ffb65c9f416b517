// Live stock for the open bar, per the contract's "Live stock over WebSocket":
// auth -> subscribe(since) -> snapshot or missed messages -> mode -> live `stock` messages.
// A jump in seq re-subscribes with the last seq; in `poll` mode (or when the socket cannot
// be opened, or closed with 4429) the stock endpoint is polled with If-None-Match at the
// interval the server gave; lost sockets reconnect with exponential backoff and jitter.

import { accessToken } from "./auth.js";
import { rawRequest } from "./api.js";
import { store } from "./store.js";

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

export class LiveStock {
  constructor(barId) {
    this.barId = barId;
    this.ws = null;
    this.mode = "push";
    this.pollIntervalMs = 5000;
    this.subscribed = false;
    this.backoffMs = 500;
    this.stopped = false;
    this.timers = { poll: null, reconnect: null, ping: null, pong: null };
    this.onOnline = () => { this.backoffMs = 500; this.connect(); this.pollNow(); };
    this.onOffline = () => store.setConn("offline");
  }

  start() {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.connect();
    this.schedulePoll(0); // until the socket is subscribed, polling keeps the page current
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    Object.values(this.timers).forEach((t) => clearTimeout(t));
    if (this.ws) { this.ws.onclose = null; this.ws.close(1000); }
  }

  get pushing() { return this.subscribed && this.mode === "push"; }

  updateBadge() {
    if (!navigator.onLine) store.setConn("offline");
    else if (this.pushing) store.setConn("live");
  }

  // --- websocket ---
  connect() {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timers.reconnect);
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    let ws;
    try { ws = new WebSocket(url); } catch { this.reconnectLater(); return; }
    this.ws = ws;
    this.subscribed = false;
    ws.onopen = async () => {
      try {
        ws.send(JSON.stringify({ type: "auth", token: await accessToken() }));
      } catch { ws.close(4000); }
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => this.closed(event.code);
  }

  closed(code) {
    this.ws = null;
    this.subscribed = false;
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pong);
    if (this.stopped) return;
    if (code === 4401) accessToken({ force: true }).catch(() => null);
    if (code === 4429) this.backoffMs = Math.max(this.backoffMs, 15_000);
    if (code === 1012) this.backoffMs = 500;
    this.schedulePoll(0);
    this.reconnectLater();
  }

  reconnectLater() {
    const delay = this.backoffMs * (0.75 + Math.random() * 0.5);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.timers.reconnect = setTimeout(() => this.connect(), delay);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  subscribe() {
    this.send({ type: "subscribe", bar_id: this.barId, since: store.seq || null });
  }

  heartbeat() {
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => {
      this.send({ type: "ping", t: Date.now() });
      this.timers.pong = setTimeout(() => this.ws && this.ws.close(4000), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  receive(raw) {
    let msg;
    try { msg = JSON.parse(raw); } catch { return; }
    this.heartbeat();
    switch (msg.type) {
      case "ready":
        this.backoffMs = 500;
        this.subscribe();
        break;
      case "snapshot":
        if (msg.bar_id !== this.barId) return;
        store.applyStock(msg.stock, msg.seq, { advance: true });
        store.seq = msg.seq;
        this.subscribed = true;
        break;
      case "stock":
        if (msg.bar_id !== this.barId || msg.seq <= store.seq) return;
        if (msg.seq !== store.seq + 1) { this.subscribe(); return; } // gap: ask for what we missed
        store.applyStock(msg.changes, msg.seq, { advance: true });
        this.subscribed = true;
        break;
      case "mode":
        if (msg.bar_id !== this.barId) return;
        this.subscribed = true;
        store.noteCatalog(msg.catalog_seq);
        this.setMode(msg.mode, msg.poll_interval_ms);
        break;
      case "catalog": // additive: a product was created or edited on another device
        if (msg.bar_id !== this.barId) return;
        store.upsertProduct(msg.product);
        store.catalogSeq = msg.catalog_seq;
        break;
      case "pong":
        clearTimeout(this.timers.pong);
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
      clearTimeout(this.timers.poll);
      this.timers.poll = null;
    } else {
      store.setConn("polling");
      this.schedulePoll(this.pollIntervalMs);
    }
  }

  // --- polling ---
  schedulePoll(delayMs) {
    clearTimeout(this.timers.poll);
    this.timers.poll = setTimeout(() => this.pollNow(), delayMs);
  }

  async pollNow() {
    if (this.stopped || this.pushing) return;
    const seq = store.seq;
    try {
      const response = await rawRequest("GET", `/api/bars/${this.barId}/stock?since=${seq}`,
        { headers: { "If-None-Match": `"${seq}"` } });
      if (response.status === 200) {
        const body = await response.json();
        if (body.poll_interval_ms) this.pollIntervalMs = body.poll_interval_ms;
        store.noteCatalog(body.catalog_seq);
        const changes = body.changes || body.snapshot || [];
        store.applyStock(changes, body.seq, { advance: true });
        if (body.snapshot) store.seq = body.seq;
      }
      if (response.ok || response.status === 304) {
        if (!this.pushing) store.setConn("polling");
      }
    } catch {
      store.setConn("offline");
    }
    if (!this.pushing && !this.stopped) this.schedulePoll(this.pollIntervalMs);
  }
}
