// Owner/manager: the first-run path of a new bar. Four steps, each a link to the screen that
// does it and ticked from what the server says (products, a first delivery, a team, a first
// sale). Empty screens elsewhere use emptyState() to point at the step they are waiting for.

import { registerScreen } from "../screens.js";
import { store } from "../store.js";
import { t } from "../i18n.js";
import { h, replace } from "../ui.js";
import { api } from "../api.js";
import { problemText } from "../errors.js";

const STEPS = [
  { id: "products", screen: "products" },
  { id: "delivery", screen: "delivery" },
  { id: "staff", screen: "staff" },
  { id: "sale", screen: "sell" },
];

/** An empty state saying what is missing and linking to the step that fills it. */
export function emptyState(step) {
  const target = STEPS.find((s) => s.id === step);
  return h("section", { class: "panel empty-state", dataset: { step } },
    h("p", {}, t(`start.empty.${step}`)),
    h("a", { class: "button primary", href: `#/${target.screen}` }, t(`start.step.${step}`)));
}

/** Which steps are done, read from the server (null where it could not be read). */
async function progress(barId) {
  const get = (path) => api.get(`/api/bars/${barId}${path}`).catch(() => null);
  const [movements, staff, sales] = await Promise.all([
    get("/movements?limit=1"), get("/staff"), get("/sales?limit=1"),
  ]);
  return {
    products: [...store.products.values()].some((p) => p.active),
    delivery: movements ? movements.movements.length > 0 : null,
    staff: staff ? staff.members.length > 1 : null,
    sale: sales ? sales.sales.length > 0 : null,
  };
}

function render(container) {
  const list = h("ol", { class: "steps", id: "start-steps" });
  const message = h("p", { class: "feedback", role: "status", "aria-live": "polite" });
  container.append(h("section", { class: "panel" },
    h("h1", {}, t("start.title", { bar: store.bar.name })),
    h("p", { class: "muted" }, t("start.intro")), list, message));

  async function draw() {
    try {
      const done = await progress(store.bar.id);
      const next = STEPS.find((s) => !done[s.id]);
      replace(list, STEPS.map((s) => h("li", { class: done[s.id] ? "step done" : "step", dataset: { step: s.id, done: String(!!done[s.id]) } },
        h("span", { class: "step-mark" }, done[s.id] ? t("start.done") : t("start.todo")),
        h("div", { class: "step-text" },
          h("strong", {}, t(`start.step.${s.id}`)),
          h("span", { class: "muted" }, t(`start.hint.${s.id}`))),
        h("a", { class: s === next ? "button primary" : "button", href: `#/${s.screen}` }, t("start.go")))));
      message.textContent = next ? "" : t("start.all_done");
    } catch (err) {
      message.textContent = problemText(err);
    }
  }
  draw();
  return store.on("products", draw);
}

registerScreen({ id: "start", titleKey: "nav.start", icon: "🚀", roles: ["owner", "manager"], order: 90, group: "setup", render });
