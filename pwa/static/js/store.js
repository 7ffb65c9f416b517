// What the open page knows: the session, the bar, its products with their last known stock
// (a read-only cache of the server's truth) and the live connection's state. Screens read it
// and subscribe to its events: "bar", "products", "stock", "conn", "outbox".

const handlers = new Map();

export const store = {
  session: null,
  bar: null,
  products: new Map(), // id -> product (stock included)
  seq: 0, // last bar seq applied from the live stream or a poll
  productSeq: new Map(), // id -> seq its stock was last set at
  catalogSeq: null, // the bar's catalog version last seen (additive field of `mode` and polls)
  conn: "offline", // "live" | "polling" | "offline"
  outbox: [], // entries of the outbox (pending and rejected), oldest first

  on(event, handler) {
    if (!handlers.has(event)) handlers.set(event, new Set());
    handlers.get(event).add(handler);
    return () => handlers.get(event).delete(handler);
  },

  emit(event, detail) {
    for (const handler of handlers.get(event) || []) handler(detail);
  },

  setProducts(seq, products) {
    this.products = new Map(products.map((p) => [p.id, p]));
    this.productSeq = new Map(products.map((p) => [p.id, seq]));
    this.seq = seq;
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

  /** A product created or edited elsewhere (the socket's additive `catalog` message). */
  upsertProduct(product) {
    const existing = this.products.get(product.id);
    const { stock, ...catalog } = product;
    if (existing) Object.assign(existing, catalog);
    else {
      this.products.set(product.id, { ...product });
      this.productSeq.set(product.id, -1); // its stock is refreshed by the next change
    }
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
};

/** "ok" | "low" | "out": the colour of a stock level. */
export function stockLevel(product) {
  if (product.stock <= 0) return "out";
  if (product.stock <= product.low_threshold) return "low";
  return "ok";
}
