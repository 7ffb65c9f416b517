// LiveStock and the store without a browser: a fake WebSocket, a fake fetch and a fake clock.
// Run: node --test pwa/tests/   (tests/browser/test_js_units.py runs it under pytest)

import { test } from "node:test";
import assert from "node:assert/strict";

import { LiveStock } from "../static/js/live.js";
import { createStore } from "../static/js/store.js";

const BAR = "b1";

/** setTimeout/clearTimeout on a clock that moves only when told. */
function fakeClock() {
  let now = 0;
  let next = 1;
  const timers = new Map();
  return {
    setTimeout: (fn, ms) => { timers.set(next, { at: now + ms, fn }); return next++; },
    clearTimeout: (id) => { timers.delete(id); },
    now: () => now,
    pending: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = until;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

class FakeSocket {
  static opened = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.opened.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code) { this.readyState = 3; this.onclose?.({ code }); }
  async open() { this.readyState = 1; await this.onopen(); }
  deliver(message) { this.onmessage({ data: JSON.stringify(message) }); }
}

function fakeServer() {
  const calls = [];
  const answers = [];
  const server = {
    calls,
    stalled: false, // Wi-Fi connected, no traffic: requests never get an answer
    answer: (status, body) => answers.push({ status, body }),
    request: async (method, path, { headers }) => {
      calls.push({ method, path, headers });
      if (server.stalled) return new Promise(() => {});
      const next = answers.shift() || { status: 304 };
      return { status: next.status, ok: next.status < 300, json: async () => next.body };
    },
  };
  return server;
}

function setup() {
  FakeSocket.opened = [];
  const clock = fakeClock();
  const server = fakeServer();
  const kept = new Map();
  const store = createStore({ keep: { getItem: (k) => kept.get(k) ?? null, setItem: (k, v) => kept.set(k, v) }, now: clock.now });
  store.setProducts(0, [
    { id: "beer", name: "Beer", stock: 10, active: true },
    { id: "soda", name: "Soda", stock: 5, active: true },
  ]);
  const live = new LiveStock(BAR, {
    store, WebSocket: FakeSocket, request: server.request, token: async () => "tok",
    setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, now: clock.now,
    random: () => 0.5, online: () => true, events: null, url: "ws://test/ws",
  });
  return { clock, server, store, live };
}

async function subscribed({ live, store }, seq = 3) {
  live.start();
  const ws = FakeSocket.opened.at(-1);
  await ws.open();
  assert.deepEqual(ws.sent[0], { type: "auth", token: "tok" });
  ws.deliver({ type: "ready" });
  ws.deliver({ type: "snapshot", bar_id: BAR, seq, stock: [{ product_id: "beer", stock: 8 }, { product_id: "soda", stock: 5 }] });
  ws.deliver({ type: "mode", bar_id: BAR, mode: "push", poll_interval_ms: 5000, catalog_seq: 1 });
  assert.equal(store.seq, seq);
  assert.equal(store.conn, "live");
  return ws;
}

test("live messages in order are applied; a jump in seq re-subscribes from the last seq", async () => {
  const t = setup();
  const ws = await subscribed(t);
  assert.deepEqual(ws.sent[1], { type: "subscribe", bar_id: BAR, since: null });
  ws.deliver({ type: "stock", bar_id: BAR, seq: 4, changes: [{ product_id: "beer", stock: 7 }] });
  assert.equal(t.store.products.get("beer").stock, 7);
  ws.deliver({ type: "stock", bar_id: BAR, seq: 6, changes: [{ product_id: "beer", stock: 5 }] }); // 5 is missing
  assert.equal(t.store.seq, 4);
  assert.equal(t.store.products.get("beer").stock, 7);
  assert.deepEqual(ws.sent.at(-1), { type: "subscribe", bar_id: BAR, since: 4 });
  ws.deliver({ type: "stock", bar_id: BAR, seq: 4, changes: [{ product_id: "beer", stock: 7 }] }); // replayed twice: ignored
  ws.deliver({ type: "stock", bar_id: BAR, seq: 5, changes: [{ product_id: "soda", stock: 4 }] });
  ws.deliver({ type: "stock", bar_id: BAR, seq: 6, changes: [{ product_id: "beer", stock: 5 }] });
  assert.equal(t.store.seq, 6);
  assert.equal(t.store.products.get("beer").stock, 5);
  assert.equal(t.store.products.get("soda").stock, 4);
  ws.deliver({ type: "stock", bar_id: "other", seq: 7, changes: [{ product_id: "beer", stock: 0 }] });
  assert.equal(t.store.products.get("beer").stock, 5);
  t.live.stop();
});

test("poll mode polls at the server's interval with If-None-Match, through the same update path", async () => {
  const t = setup();
  const ws = await subscribed(t);
  ws.deliver({ type: "mode", bar_id: BAR, mode: "poll", poll_interval_ms: 2000, catalog_seq: 1 });
  assert.equal(t.store.conn, "polling");
  t.server.answer(200, { seq: 5, changes: [{ product_id: "beer", stock: 6 }], poll_interval_ms: 2000, catalog_seq: 1 });
  await t.clock.advance(2000);
  assert.deepEqual(t.server.calls.map((c) => c.path), [`/api/bars/${BAR}/stock?since=3`]);
  assert.equal(t.server.calls[0].headers["If-None-Match"], '"3"');
  assert.equal(t.store.seq, 5);
  assert.equal(t.store.products.get("beer").stock, 6);
  await t.clock.advance(2000); // 304: nothing changes, next poll scheduled
  assert.equal(t.server.calls.length, 2);
  assert.equal(t.server.calls[1].headers["If-None-Match"], '"5"');
  assert.deepEqual(t.clock.pending().filter((ms) => ms <= 2000), [2000]);
  ws.deliver({ type: "mode", bar_id: BAR, mode: "push", poll_interval_ms: 2000 });
  await t.clock.advance(10_000);
  assert.equal(t.server.calls.length, 2); // pushed again: no more polls
  t.live.stop();
});

test("a poll answer older than what the socket applied changes nothing", async () => {
  const t = setup();
  const ws = await subscribed(t);
  const asked = t.store.seq;
  ws.deliver({ type: "stock", bar_id: BAR, seq: 4, changes: [{ product_id: "beer", stock: 7 }] });
  assert.equal(t.live.update({ seq: 4, after: asked, changes: [{ product_id: "beer", stock: 7 }] }), true);
  assert.equal(t.live.update({ seq: 9, after: 6, changes: [{ product_id: "beer", stock: 1 }] }), false); // a gap
  assert.equal(t.store.products.get("beer").stock, 7);
  t.live.stop();
});

test("a closed socket polls at once and reconnects with backoff; 4429 waits at least 15 s", async () => {
  const t = setup();
  const ws = await subscribed(t);
  ws.close(1006);
  assert.equal(t.clock.pending()[0], 0); // poll now
  assert.ok(t.clock.pending().includes(500)); // reconnect after 0.5 s (random 0.5 -> x1)
  await t.clock.advance(500);
  assert.equal(FakeSocket.opened.length, 2);
  const second = FakeSocket.opened[1];
  await second.open();
  second.close(4429);
  assert.ok(t.clock.pending().every((ms) => ms === 0 || ms >= 15_000 || ms === 5000));
  await t.clock.advance(14_000);
  assert.equal(FakeSocket.opened.length, 2);
  await t.clock.advance(2000);
  assert.equal(FakeSocket.opened.length, 3);
  t.live.stop();
});

test("a snapshot behind the store (database restored) is the truth", () => {
  const store = createStore({ keep: null });
  store.setProducts(10, [{ id: "beer", name: "Beer", stock: 3, active: true }]);
  store.applyStock([{ product_id: "beer", stock: 2 }], 12, { advance: true });
  store.applySnapshot([{ product_id: "beer", stock: 9 }], 7);
  assert.equal(store.seq, 7);
  assert.equal(store.products.get("beer").stock, 9);
});

test("a sale answer newer than the product list survives a reload of the list", () => {
  const store = createStore({ keep: null });
  store.setProducts(10, [{ id: "beer", name: "Beer", stock: 3, active: true }]);
  store.applyStock([{ product_id: "beer", stock: 2 }], 11); // our sale's answer
  store.setProducts(10, [{ id: "beer", name: "Beer (bottle)", stock: 3, active: true }]); // a slow GET
  assert.equal(store.products.get("beer").stock, 2);
  assert.equal(store.products.get("beer").name, "Beer (bottle)");
});

test("offline selling stops once the last contact is older than the grace, and resumes on contact", () => {
  let now = 1_000_000;
  const kept = new Map();
  const keep = { getItem: (k) => kept.get(k) ?? null, setItem: (k, v) => kept.set(k, v) };
  const store = createStore({ keep, now: () => now });
  store.offlineGraceMs = 72 * 3600 * 1000;
  store.noteContact();
  assert.equal(createStore({ keep }).lastContact, 1_000_000); // survives a reload
  now += 72 * 3600 * 1000;
  assert.equal(store.offlineTooLong(), false);
  now += 1;
  assert.equal(store.offlineTooLong(), true);
  let told = 0;
  store.on("contact", () => told++);
  store.noteContact();
  assert.equal(store.offlineTooLong(), false);
  assert.equal(told, 1);
});

test("a sale with no answer probes the socket: no pong in 3 s says offline and reconnects", async () => {
  const t = setup();
  const ws = await subscribed(t);
  t.server.stalled = true;
  t.store.emit("no-answer");
  assert.equal(ws.sent.at(-1).type, "ping");
  await t.clock.advance(2999);
  assert.equal(t.store.conn, "live");
  await t.clock.advance(1);
  assert.equal(t.store.conn, "offline");
  assert.equal(ws.readyState, 3);
  // a socket that answers stays live
  t.server.stalled = false;
  await t.clock.advance(600);
  const second = FakeSocket.opened.at(-1);
  assert.notEqual(second, ws);
  await second.open();
  second.deliver({ type: "ready" });
  second.deliver({ type: "mode", bar_id: BAR, mode: "push", poll_interval_ms: 5000 });
  t.store.emit("no-answer");
  second.deliver({ type: "pong", t: 0 });
  await t.clock.advance(5000);
  assert.equal(t.store.conn, "live");
  t.live.stop();
});
