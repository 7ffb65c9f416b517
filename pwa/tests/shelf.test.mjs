// shelf.js without a browser: packs + units + tenths add up to base units as the server
// converts them (tenths of a pack rounded), a line says packs or plain units, never both, and
// stock reads "240 bouteille · 10 × casier".
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.document = { documentElement: {} };
globalThis.fetch = async (url) => ({ json: async () => JSON.parse(await readFile(new URL(url), "utf8")) });

const STATIC = new URL("../static/", import.meta.url).href;
const { setLang } = await import("../static/js/i18n.js");
const { inPacks, readQuantity, quantityBody, takesTenths } = await import("../static/js/screens/shelf.js");

const FLAG = { id: "f", name: "Flag", base_unit: "bouteille", stock: 0, packs: [{ name: "casier", size: 24 }] };
const WHISKY = { id: "w", name: "Whisky", base_unit: "cl", stock: 0, packs: [{ name: "bouteille", size: 70 }] };

/** What readQuantity reads: inputs found by name in a row. */
function row(values) {
  const inputs = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { name, value: String(value) }]));
  return {
    querySelector: (selector) => inputs[selector.match(/name=([^\]]+)\]/)[1]] ?? null,
    querySelectorAll: (selector) => selector.split(", ").map((s) => inputs[s.match(/name=([^\]]+)\]/)[1]]).filter(Boolean),
  };
}

test("packs, units and tenths add up to base units", () => {
  const flag = row({ "packs-1": 3, "pack-1": "casier" });
  assert.deepEqual(readQuantity(FLAG, flag, "1", { value: "5" }),
    { pack: "casier", packs: 3, units: 5, tenths: 0, total: 77 });
  const whisky = row({ "packs-2": 2, "pack-2": "bouteille", "tenths-2": 3 });
  assert.equal(readQuantity(WHISKY, whisky, "2", { value: "" }).total, 161); // 140 + 21 cl
  const fifth = row({ "pack-3": "bouteille", "tenths-3": 5 });
  assert.equal(readQuantity({ ...WHISKY, packs: [{ name: "bouteille", size: 75 }] }, fifth, "3", { value: "" }).total, 38); // 37.5 rounds up
  assert.equal(readQuantity(FLAG, row({ "pack-4": "casier" }), "4", { value: "" }), null); // nothing typed
  assert.ok(Number.isNaN(readQuantity(FLAG, row({ "packs-5": "1.5", "pack-5": "casier" }), "5", { value: "" }).total));
});

test("a line says packs or plain units, never both", () => {
  assert.deepEqual(quantityBody({ pack: "casier", packs: 0, units: 9, tenths: 0 }, "qty"), { qty: 9 });
  assert.deepEqual(quantityBody({ pack: "casier", packs: 10, units: 0, tenths: 0 }, "qty"), { pack: "casier", packs: 10 });
  assert.deepEqual(quantityBody({ pack: "bouteille", packs: 2, units: 1, tenths: 3 }, "counted"),
    { pack: "bouteille", packs: 2, units: 1, tenths: 3 });
});

test("stock in base units and in the largest pack that fits; tenths only for volumes", async () => {
  await setLang("en", STATIC);
  assert.equal(inPacks(FLAG, 240), "240 bouteille · 10 × casier");
  assert.equal(inPacks(FLAG, 245), "245 bouteille · 10 × casier + 5");
  assert.equal(inPacks(FLAG, 23), "23 bouteille");
  assert.equal(inPacks(WHISKY, 2), "2 cl");
  assert.equal(inPacks({ ...FLAG, base_unit: "unit", packs: [] }, 7), "7");
  assert.ok(takesTenths(WHISKY));
  assert.ok(!takesTenths(FLAG));
});
