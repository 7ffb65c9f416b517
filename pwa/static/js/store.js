// What the open page knows: the session, the bar, its products with their last known stock
// (a read-only cache of the server's truth) and the live connection's state. Screens read it
// and subscribe to its events: "bar", "products", "stock", "conn", "outbox", "contact".
// Only this module writes `seq`, `productSeq` and `catalogSeq`; live.js, polls and answers to
// stock operations go through its methods. No DOM and no browser storage are needed
// (`createStore` takes where to keep the last contact), so `node --test` runs it as is.

const CONTACT_KEY = "bt-last-contact";
const CONTACT_SAVE_EVERY_MS = 10_000;

/** A store; `keep` is where the time of the last contact with the server survives reloads. */
export function createStore({ keep = globalThis.localStorage ?? null, now = () => Date.now() } = {}) {
  const handlers = new Map();
  let contactSaved = 0;

  return {
    session: null,
    bar: null,
    products: new Map(), // id -> product (stock included)
    seq: 0, // last bar seq applied from the live stream, a poll or a snapshot
    productSeq: new Map(), // id -> seq its stock was last set at
    catalogSeq: null, // the bar's catalog version last seen (additive field of `mode` and polls)
    conn: "offline", // "live" | "polling" | "offline"
    outbox: [], // entries of the outbox (pending and rejected), oldest first
    lastContact: Number(keep?.getItem(CONTACT_KEY)) || null, // ms, the server last answered
    offlineGraceMs: 72 * 3600 * 1000, // replaced by the server's setting (shell attribute)

    on(event, handler) {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event).add(handler);
      return () => handlers.get(event).delete(handler);
    },

    emit(event, detail) {
      for (const handler of handlers.get(event) || []) handler(detail);
    },

    /** The product list (GET products): stock newer than `seq` already shown is kept. */
    setProducts(seq, products) {
      const previous = this.productSeq;
      const old = this.products;
      this.products = new Map(products.map((p) => {
        const newer = (previous.get(p.id) ?? -1) > seq && old.has(p.id);
        return [p.id, newer ? { ...p, stock: old.get(p.id).stock } : p];
      }));
      this.productSeq = new Map(products.map((p) => [p.id, Math.max(seq, previous.get(p.id) ?? -1)]));
      if (seq > this.seq) this.seq = seq;
      this.emit("products");
    },

    /**
     * Apply stock values known as of `seq`. A value older than what a product already shows is
     * ignored (a sale's answer can arrive after the live message that followed it).
     * `advance` moves the bar's seq (only for the ordered live stream and polls).
     */
    applyStock(changes, seq, { advance = false } = {}) {
      const changed = [];
      let unknown = false;
      for (const { product_id: id, stock } of changes) {
        const product = this.products.get(id);
        if (!product) { unknown = true; continue; }
        if ((this.productSeq.get(id) ?? -1) > seq) continue;
        this.productSeq.set(id, seq);
        if (product.stock !== stock) { product.stock = stock; changed.push(id); }
      }
      if (advance && seq > this.seq) this.seq = seq;
      if (changed.length) this.emit("stock", changed);
      if (unknown) this.emit("unknown-product");
    },

    /**
     * The whole stock at `seq` (a `snapshot` message or a polled snapshot): the bar's seq
     * becomes `seq`. A snapshot older than what was applied means the server's database went
     * back in time (contract v1.2): it is the truth, so per-product seqs are forgotten.
     */
    applySnapshot(stock, seq) {
      if (seq < this.seq) this.productSeq = new Map();
      this.applyStock(stock, seq);
      this.seq = seq;
    },

    /** A product created or edited elsewhere (the socket's additive `catalog` message). */
    upsertProduct(product, catalogSeq) {
      const existing = this.products.get(product.id);
      const { stock, ...catalog } = product;
      if (existing) Object.assign(existing, catalog);
      else {
        this.products.set(product.id, { ...product });
        this.productSeq.set(product.id, -1); // its stock is refreshed by the next change
      }
      if (catalogSeq !== undefined && catalogSeq !== null) this.catalogSeq = catalogSeq;
      this.emit("products");
    },

    /** The bar's catalog version from `mode` messages and polls: a jump means re-read products. */
    noteCatalog(catalogSeq) {
      if (catalogSeq === undefined || catalogSeq === null) return;
      if (this.catalogSeq !== null && catalogSeq !== this.catalogSeq) this.emit("unknown-product");
      this.catalogSeq = catalogSeq;
    },

    setConn(state) {
      if (state !== this.conn) { this.conn = state; this.emit("conn", state); }
    },

    setOutbox(entries) {
      this.outbox = entries;
      this.emit("outbox", entries);
    },

    /** The server answered (socket message, poll, sale): offline selling may go on. */
    noteContact() {
      const wasStopped = this.offlineTooLong();
      this.lastContact = now();
      if (keep && this.lastContact - contactSaved > CONTACT_SAVE_EVERY_MS) {
        contactSaved = this.lastContact;
        keep.setItem(CONTACT_KEY, String(this.lastContact));
      }
      if (wasStopped) this.emit("contact");
    },

    /** True when the last contact is older than the offline grace: new sales must wait. */
    offlineTooLong() {
      return this.lastContact !== null && now() - this.lastContact > this.offlineGraceMs;
    },
  };
}

export const store = createStore();

/** "ok" | "low" | "out": the colour of a stock level. */
export function stockLevel(product) {
  if (product.stock <= 0) return "out";
  if (product.stock <= product.low_threshold) return "low";
  return "ok";
}
