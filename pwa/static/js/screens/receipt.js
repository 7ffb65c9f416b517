// The receipt of a sale (number, lines, total, seller, time), shown over the sell screen:
// shared through the Web Share API where the phone has it, printed otherwise (the print
// stylesheet prints only the receipt). Not a tab: the sell screen opens it.

import { t, money, number, dateTime } from "../i18n.js";
import { h } from "../ui.js";

/** `receipt`: {number, total, deposit_total?, created_at, seller, bar_name, currency,
 *  lines: [{name, qty, line_total}]}; a take-away sale's deposit is said beside the total. */
export function receiptText(receipt) {
  const cur = receipt.currency;
  return [
    receipt.bar_name,
    t("receipt.title", { number: receipt.number }),
    dateTime(receipt.created_at),
    ...receipt.lines.map((l) => `${number(l.qty)} × ${l.name}  ${money(l.line_total, cur)}`),
    `${t("sell.total")}  ${money(receipt.total, cur)}`,
    ...(receipt.deposit_total ? [`${t("receipt.deposit")}  ${money(receipt.deposit_total, cur)}`,
      `${t("receipt.to_pay")}  ${money(receipt.total + receipt.deposit_total, cur)}`] : []),
    t("receipt.seller", { name: receipt.seller }),
  ].join("\n");
}

export function showReceipt(receipt) {
  const cur = receipt.currency;
  const close = () => { dialog.close(); dialog.remove(); };
  const share = async () => {
    try {
      await navigator.share({ title: t("receipt.title", { number: receipt.number }), text: receiptText(receipt) });
    } catch {
      // the seller closed the share sheet: nothing to do
    }
  };
  const dialog = h("dialog", { class: "receipt", id: "receipt", "aria-labelledby": "receipt-title" },
    h("p", { class: "receipt-bar" }, receipt.bar_name),
    h("h2", { id: "receipt-title" }, t("receipt.title", { number: receipt.number })),
    h("p", { class: "muted", id: "receipt-time" }, dateTime(receipt.created_at)),
    h("table", { class: "receipt-lines" }, h("tbody", {}, receipt.lines.map((l) => h("tr", {},
      h("td", { class: "num" }, number(l.qty)), h("td", {}, l.name), h("td", { class: "num" }, money(l.line_total, cur)))))),
    h("p", { class: "total" }, h("span", {}, t("sell.total")), h("strong", { id: "receipt-total" }, money(receipt.total, cur))),
    receipt.deposit_total ? h("p", { id: "receipt-deposit" }, h("span", {}, t("receipt.deposit")), " ", h("strong", {}, money(receipt.deposit_total, cur))) : null,
    receipt.deposit_total ? h("p", { class: "total", id: "receipt-to-pay" }, h("span", {}, t("receipt.to_pay")), " ", h("strong", {}, money(receipt.total + receipt.deposit_total, cur))) : null,
    h("p", { class: "muted", id: "receipt-seller" }, t("receipt.seller", { name: receipt.seller })),
    h("div", { class: "receipt-actions" },
      typeof navigator.share === "function" ? h("button", { type: "button", class: "primary", id: "receipt-share", onclick: share }, t("receipt.share")) : null,
      h("button", { type: "button", id: "receipt-print", onclick: () => window.print() }, t("receipt.print")),
      h("button", { type: "button", class: "ghost", id: "receipt-close", onclick: close }, t("receipt.close"))));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
