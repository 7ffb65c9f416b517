// Every screen of the app; each module registers itself (see ../screens.js). Add yours here.
import "./sell.js";
import "./today.js";
import "./stock.js";
import "./delivery.js";
import "./forecast.js";
import "./count.js";
import "./sales.js";
import "./ledger.js";
import "./products.js";
import "./staff.js";
import "./alerts.js";
import "./start.js";
import "./bar.js";
