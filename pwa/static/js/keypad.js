// A quantity keypad for the basket: a crate of 24 is "2", "4", OK instead of 24 taps.
// A modal <dialog> (focus stays inside, Escape cancels); digits only, 0 removes the line.

import { t } from "./i18n.js";
import { h } from "./ui.js";

const MAX_QTY = 999; // the server's per-line limit

/** Ask for a quantity; resolves to a number (0..999) or null when cancelled. */
export function askQuantity(title, current) {
  return new Promise((resolve) => {
    let typed = "";
    const shown = h("output", { class: "keypad-value", id: "keypad-value", "aria-live": "polite" }, String(current));
    const show = () => { shown.textContent = typed || String(current); };
    const press = (digit) => {
      const next = (typed + digit).replace(/^0+(?=\d)/, "");
      if (Number(next) <= MAX_QTY) typed = next;
      show();
    };
    const dialog = h("dialog", { class: "keypad", id: "keypad", "aria-labelledby": "keypad-title" },
      h("h2", { id: "keypad-title" }, title), shown,
      h("div", { class: "keypad-keys" },
        [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => h("button", { type: "button", dataset: { key: String(d) }, onclick: () => press(String(d)) }, String(d))),
        h("button", { type: "button", dataset: { key: "erase" }, "aria-label": t("keypad.erase"), onclick: () => { typed = typed.slice(0, -1); show(); } }, "⌫"),
        h("button", { type: "button", dataset: { key: "0" }, onclick: () => press("0") }, "0"),
        h("button", { type: "button", class: "primary", dataset: { key: "ok" }, onclick: () => finish(typed === "" ? current : Number(typed)) }, t("keypad.ok"))),
      h("button", { type: "button", class: "ghost", onclick: () => finish(null) }, t("keypad.cancel")));
    let done = false;
    function finish(value) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    dialog.addEventListener("cancel", () => finish(null));
    dialog.addEventListener("keydown", (e) => { if (/^\d$/.test(e.key)) press(e.key); else if (e.key === "Enter") finish(typed === "" ? current : Number(typed)); });
    document.body.append(dialog);
    dialog.showModal();
  });
}
