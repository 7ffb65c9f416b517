// The screens registry: every screen of the app registers itself here and the navigation
// (bottom tabs on a phone, side tabs on a tablet) is built from it.
//
// To add a screen (alerts, forecast, ...): create js/screens/<name>.js calling
//   registerScreen({ id: "forecast", titleKey: "nav.forecast", icon: "📈",
//                    roles: ["owner", "manager"], order: 80, render });
// where render(container, ctx) draws into `container` and may return a cleanup function,
// add its messages to i18n/fr.json and i18n/en.json, and import it from js/screens/index.js.
// ctx = { store, api, bar, navigate(id) }. Listen to store events ("stock", "products",
// "conn", "outbox") for live updates and unsubscribe in the cleanup.

const screens = new Map();

export function registerScreen(screen) {
  if (screens.has(screen.id)) throw new Error(`screen ${screen.id} registered twice`);
  screens.set(screen.id, { order: 50, icon: "", ...screen });
}

/** The screens a member with this role may open, in navigation order. */
export function screensFor(role) {
  return [...screens.values()]
    .filter((s) => !s.roles || s.roles.includes(role))
    .sort((a, b) => a.order - b.order);
}

export function getScreen(id) {
  return screens.get(id);
}
