// Server refusals in the user's language, next to the field they are about.
//
// Problem documents carry a stable `type` and, for 400 `invalid_request`, `errors[].field`
// with the validator's English message ("Expected `str` of length >= 8"). Neither `detail`
// nor those messages are ever shown: the type and the message's shape are mapped to
// localized text, so a French user never reads the server's English.

import { t, number } from "./i18n.js";
import { h } from "./ui.js";

// Problem types the app knows how to say (contract + errors.py); others get a generic text.
const TYPES = new Set([
  "invalid_request", "unauthenticated", "forbidden", "not_found", "method_not_allowed", "conflict",
  "email_taken", "already_member", "insufficient_stock", "idempotency_conflict",
  "duplicate_delivery", "payload_too_large", "too_many_attempts", "invalid_credentials", "busy",
  "unavailable", "internal_error",
]);

// Types that are about one field of the form that was sent.
const TYPE_FIELD = { email_taken: "email", already_member: "email", duplicate_delivery: "reference" };

// The validator's English message -> [message key, placeholders]; first match wins.
const SHAPES = [
  [/missing required field|\brequired\b/i, () => ["error.field.required"]],
  [/of length >= (\d+)/, (m) => (m[1] === "1" ? ["error.field.required"] : ["error.field.min_length", { n: number(+m[1]) }])],
  [/of length <= (\d+)/, (m) => ["error.field.max_length", { n: number(+m[1]) }]],
  [/Expected `(?:int|float)[^`]*` >= ([\d.]+)/, (m) => ["error.field.min", { n: number(+m[1]) }]],
  [/Expected `(?:int|float)[^`]*` <= ([\d.]+)/, (m) => ["error.field.max", { n: number(+m[1]) }]],
  [/Expected `(?:int|float)[^`]*` > ([\d.]+)/, (m) => ["error.field.min", { n: number(+m[1]) }]],
  [/Expected `[^`]*int[^`]*`/, () => ["error.field.whole_number"]],
  [/Expected `[^`]*float[^`]*`/, () => ["error.field.number"]],
  [/time zone/i, () => ["error.field.timezone"]],
  [/currency/i, () => ["error.field.currency"]],
  [/matching regex/i, () => ["error.field.format"]],
];

// A clearer word for some fields whose format is checked by a pattern.
const FORMAT_BY_FIELD = { email: "error.field.email", day_starts_at: "error.field.time", currency: "error.field.currency" };

/** The field's own name from a problem path: "items[0].qty" -> "qty". */
export function fieldName(path) {
  return String(path || "").replace(/\[\d+\]/g, "").split(".").pop();
}

/** One `errors[]` item in the user's language (its English message is never shown). */
export function fieldText(error) {
  const name = fieldName(error.field);
  for (const [pattern, make] of SHAPES) {
    const match = pattern.exec(String(error.message || ""));
    if (!match) continue;
    const [key, vars] = make(match);
    if (key === "error.field.format" && FORMAT_BY_FIELD[name]) return t(FORMAT_BY_FIELD[name]);
    return t(key, vars);
  }
  return t("error.field.invalid");
}

/** What went wrong, in one localized sentence (network failures included). */
export function problemText(err) {
  const problem = err?.problem;
  if (!problem || !problem.type) {
    if (err?.status >= 500) return t("problem.internal_error");
    return t("error.network");
  }
  return TYPES.has(problem.type) ? t(`problem.${problem.type}`) : t("problem.unknown");
}

/** Remove the messages showErrors() placed in `root`. */
export function clearErrors(root) {
  for (const el of root.querySelectorAll(".field-error")) el.remove();
  for (const el of root.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.removeAttribute("aria-describedby");
  }
}

let ids = 0;

/** Show `message` under `input` (inside its label), marking the input invalid. */
export function markField(input, message) {
  const id = `field-error-${++ids}`;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", id);
  const note = h("span", { class: "field-error", id, dataset: { for: input.name || "" } }, message);
  const holder = input.closest(".field") || input.parentElement;
  holder.append(note);
  return note;
}

/**
 * Show a refusal in `root`: each field error beside its input (found by name; `names` maps a
 * field path to another input name), and what cannot be placed in `summary`.
 * Returns the first input marked, so the caller can focus it.
 */
export function showErrors(root, err, { summary = null, names = {} } = {}) {
  clearErrors(root);
  const problem = err?.problem || {};
  const errors = Array.isArray(problem.errors) ? [...problem.errors] : [];
  if (TYPE_FIELD[problem.type]) errors.push({ field: TYPE_FIELD[problem.type], text: problemText(err) });
  const unplaced = [];
  let first = null;
  for (const error of errors) {
    const name = names[error.field] ?? fieldName(error.field);
    const input = name ? root.querySelector(`[name="${CSS.escape(name)}"]`) : null;
    const text = error.text || fieldText(error);
    if (input) {
      markField(input, text);
      first = first || input;
    } else unplaced.push(text);
  }
  if (summary) {
    summary.dataset.outcome = "error";
    summary.textContent = first && unplaced.length === 0 && problem.type === "invalid_request"
      ? t("problem.invalid_request") : [problemText(err), ...unplaced].join(" ");
  }
  first?.focus();
  return first;
}
