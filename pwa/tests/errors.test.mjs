// errors.js and tn() without a browser: every validator message shape the server sends
// becomes a message in the user's language, and counts follow Intl.PluralRules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

// i18n.js reads its messages with fetch and remembers the choice in localStorage
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.document = { documentElement: {} };
globalThis.fetch = async (url) => ({ json: async () => JSON.parse(await readFile(new URL(url), "utf8")) });

const STATIC = new URL("../static/", import.meta.url).href;
const { setLang, tn } = await import("../static/js/i18n.js");
const { fieldText, fieldName, problemText } = await import("../static/js/errors.js");

// What the server says (errors.py, msgspec, bars/service.py) -> what a French user reads.
const FRENCH = [
  [{ field: "password", message: "Expected `str` of length >= 8" }, "Au moins 8 caractères."],
  [{ field: "name", message: "Expected `str` of length >= 1" }, "Obligatoire."],
  [{ field: "name", message: "Expected `str` of length <= 200" }, "Au plus 200 caractères."],
  [{ field: "price", message: "Expected `int` >= 0" }, "Au moins 0."],
  [{ field: "lead_time_days", message: "Expected `int` <= 60" }, "Au plus 60."],
  [{ field: "service_level", message: "Expected `float` <= 0.999" }, "Au plus 0,999."],
  [{ field: "price", message: "Expected `int`, got `float`" }, "Un nombre entier."],
  [{ field: "cost", message: "Expected `int | null`, got `str`" }, "Un nombre entier."],
  [{ field: "price", message: "Object missing required field `price`" }, "Obligatoire."],
  [{ field: "password", message: "required to create a new account" }, "Obligatoire."],
  [{ field: "email", message: "Expected `str` matching regex '^[^@\\s]+@[^@\\s]+$'" }, "Une adresse e-mail, par ex. nom@exemple.com."],
  [{ field: "day_starts_at", message: "Expected `str` matching regex '^([01][0-9]|2[0-3]):[0-5][0-9]$'" }, "Une heure au format HH:MM."],
  [{ field: "timezone", message: "unknown IANA time zone 'Mars/Olympus'" }, "Fuseau horaire inconnu."],
  [{ field: "currency", message: "unsupported ISO 4217 currency 'ABC'" }, "Devise inconnue : trois lettres ISO, par ex. XOF ou EUR."],
  [{ field: "", message: "value out of range or malformed" }, "Valeur invalide."],
];

test("validator messages become French, limits included", async () => {
  await setLang("fr", STATIC);
  for (const [error, expected] of FRENCH) assert.equal(fieldText(error), expected, error.message);
});

test("a field path names its input", () => {
  assert.equal(fieldName("items[0].qty"), "qty");
  assert.equal(fieldName("counts[12].counted"), "counted");
  assert.equal(fieldName("email"), "email");
  assert.equal(fieldName(""), "");
});

test("problem types, never the server's detail", async () => {
  await setLang("fr", STATIC);
  const detail = "This person is already a member of this bar.";
  assert.equal(problemText({ problem: { type: "already_member", detail } }), "Déjà membre de ce bar.");
  assert.equal(problemText({ problem: { type: "something_new", detail: "English" } }), "Refusé par le serveur.");
  assert.equal(problemText(new Error("fetch failed")), "Pas de connexion. Réessayez."); // no answer at all
  assert.doesNotMatch(problemText({ problem: { type: "busy", detail: "retry shortly" } }), /retry/);
});

test("plurals follow Intl.PluralRules in both languages", async () => {
  await setLang("fr", STATIC);
  assert.equal(tn("outbox.sent", 1), "1 vente en attente envoyée");
  assert.equal(tn("outbox.sent", 3), "3 ventes en attente envoyées");
  assert.equal(tn("product.bulk_created", 0), "0 produit ajouté."); // French: 0 is singular
  await setLang("en", STATIC);
  assert.equal(tn("product.bulk_created", 0), "0 products added.");
  assert.equal(tn("product.bulk_created", 1), "1 product added.");
  assert.equal(tn("delivery.done", 1200), "Delivery recorded (1,200 products).");
});

test("no message says 'vente(s)': counted messages have their plural forms", async () => {
  for (const lang of ["fr", "en"]) {
    const messages = JSON.parse(await readFile(new URL(`i18n/${lang}.json`, STATIC), "utf8"));
    for (const [key, text] of Object.entries(messages)) assert.doesNotMatch(text, /\w\(s\)/, `${lang} ${key}`);
  }
});
