// The screens of managers and owners, imported on demand by main.js once the open bar's role
// is known: staff phones never download them (the first load on a phone network pays for every
// byte). Each module registers itself (see ../screens.js). Add manager screens here.
import "./today.js";
import "./stock.js";
import "./delivery.js";
import "./forecast.js";
import "./count.js";
import "./sales.js";
import "./corrections.js";
import "./ledger.js";
import "./products.js";
import "./items.js";
import "./staff.js";
import "./alerts.js";
import "./start.js";
import "./bar.js";
