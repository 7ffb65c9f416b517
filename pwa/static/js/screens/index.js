// The screens every member needs, loaded with the shell; each module registers itself (see
// ../screens.js). Screens only managers and owners open go in ./manager.js (loaded on demand).
import "./sell.js";
import "./till.js";
