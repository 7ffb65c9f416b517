// The app's IndexedDB ("bartender"): a key-value store (session, chosen bar, stock cache) and
// the sales outbox. Used by the pages and the service worker alike, so no DOM here.

const DB_NAME = "bartender";
const DB_VERSION = 1;
let opening = null;

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("kv");
        // n: insertion order (replay order); id: the sale's UUID (its idempotency key)
        const outbox = db.createObjectStore("outbox", { keyPath: "n", autoIncrement: true });
        outbox.createIndex("id", "id", { unique: true });
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = () => { opening = null; reject(request.error); };
    });
  }
  return opening;
}

async function run(storeName, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    let result;
    Promise.resolve(work(tx.objectStore(storeName))).then((r) => { result = r; }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const kv = {
  get: (key) => run("kv", "readonly", (s) => promisify(s.get(key))),
  set: (key, value) => run("kv", "readwrite", (s) => promisify(s.put(value, key))),
  delete: (key) => run("kv", "readwrite", (s) => promisify(s.delete(key))),
};

export const outboxStore = {
  add: (entry) => run("outbox", "readwrite", (s) => promisify(s.add(entry))),
  put: (entry) => run("outbox", "readwrite", (s) => promisify(s.put(entry))),
  delete: (n) => run("outbox", "readwrite", (s) => promisify(s.delete(n))),
  all: () => run("outbox", "readonly", (s) => promisify(s.getAll())),
};
