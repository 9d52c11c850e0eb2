// Prism events client: reports what happened to recommended items to `POST /v1/events`.
//
// Events are queued and sent in order, in batches of at most MAX_BATCH (the API's
// limit), one request at a time. Network errors, 429 and 5xx are retried with
// exponential backoff and jitter (a `Retry-After` header wins); any other 4xx is
// reported to `onError` and never retried. The queue is bounded: beyond `maxQueue`
// the oldest events are dropped and counted. An item's exposure is sent once per acm
// token. In a browser the queue is handed to `navigator.sendBeacon` when the page is
// hidden. Standard library only; see docs/events-client.md.

export const MAX_BATCH = 1000; // prism_platform.events.event.MAX_BATCH
export const EVENT_TYPES = Object.freeze(["exposure", "click", "cart", "order"]);
const BEACON_BYTES = 60000; // browsers refuse beacons over ~64 KiB
const EXPOSURES_REMEMBERED = 100000;

/** Why events were not stored: `kind` is `rejected` (the node answered 200 but
 * refused some events; `results` holds their answers), `http` (a 4xx other than 429:
 * the batch is dropped), or `gave_up` (retries exhausted: the batch is dropped). */
export class EventsError extends Error {
  constructor(kind, message, { status = null, events = [], results = [], body = null } = {}) {
    super(message);
    this.name = "EventsError";
    this.kind = kind;
    this.status = status;
    this.events = events;
    this.results = results;
    this.body = body;
  }
}

const sleepFor = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or null. */
export function retryAfterMs(header, now = Date.now()) {
  if (header == null || header === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function positiveInt(name, value, max = Infinity) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    const range = max === Infinity ? ">= 1" : `1-${max}`;
    throw new RangeError(`${name} must be an integer ${range}, got ${value}`);
  }
  return value;
}

/**
 * @param {object} options
 * @param {string} options.url the node's base URL (`/v1/events` is appended) or the full endpoint
 * @param {string} [options.userId] the user the recommendations were served to
 */
export function createEventsClient({
  url,
  userId = undefined,
  fetch = globalThis.fetch,
  batchSize = 100,
  flushIntervalMs = 2000,
  maxRetries = 5,
  backoffMs = 500,
  maxBackoffMs = 30000,
  maxQueue = 10000,
  onError = () => {},
  sleep = sleepFor,
  random = Math.random,
  newEventId = randomId,
  pageHide = true,
} = {}) {
  if (typeof url !== "string" || url === "") throw new TypeError("url is required");
  if (typeof fetch !== "function") throw new TypeError("fetch is not available; pass one");
  positiveInt("batchSize", batchSize, MAX_BATCH);
  positiveInt("maxQueue", maxQueue);
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new RangeError(`maxRetries must be an integer >= 0, got ${maxRetries}`);
  }
  const endpoint = url.replace(/\/+$/, "").endsWith("/v1/events")
    ? url
    : `${url.replace(/\/+$/, "")}/v1/events`;

  const queue = [];
  const exposed = new Set();
  const stats = { sent: 0, accepted: 0, duplicates: 0, rejected: 0, dropped: 0, failed: 0 };
  let sending = Promise.resolve();
  let timer = null;
  let closed = false;

  const report = (error) => {
    try {
      onError(error);
    } catch {
      // an onError that throws must not stop the queue
    }
  };

  function schedule() {
    if (timer !== null || flushIntervalMs <= 0 || queue.length === 0) return;
    timer = setTimeout(() => {
      timer = null;
      flush();
    }, flushIntervalMs);
    if (typeof timer === "object" && typeof timer.unref === "function") timer.unref();
  }

  function enqueue(event) {
    queue.push(event);
    while (queue.length > maxQueue) {
      queue.shift();
      stats.dropped += 1;
    }
    if (queue.length >= batchSize) flush();
    else schedule();
  }

  /** Queue one event. `item` is an item of a recommend answer (`{item_id, acm}`);
   * `extra` may set `value`, `order_id`, `user_id`, `ts` (unix seconds), `event_id`. */
  function track(type, item, extra = {}) {
    if (closed) throw new Error("the events client is closed");
    if (!EVENT_TYPES.includes(type)) {
      throw new TypeError(`type must be one of ${EVENT_TYPES.join(", ")}, got ${type}`);
    }
    const acm = item?.acm;
    const itemId = extra.item_id ?? item?.item_id;
    const user = extra.user_id ?? userId;
    if (typeof acm !== "string" || acm === "") throw new TypeError("item.acm is required");
    if (typeof itemId !== "string" || itemId === "") {
      throw new TypeError("item.item_id is required");
    }
    if (typeof user !== "string" || user === "") {
      throw new TypeError("user_id is required (the userId option or extra.user_id)");
    }
    const event = {
      event_id: extra.event_id ?? newEventId(),
      type,
      acm,
      user_id: user,
      item_id: itemId,
      ts: extra.ts ?? Date.now() / 1000,
    };
    if (extra.value != null) event.value = extra.value;
    if (extra.order_id != null) event.order_id = extra.order_id;
    enqueue(event);
    return event.event_id;
  }

  /** Queue the item's exposure unless this client already queued one for its token;
   * true when queued. */
  function exposure(item, extra = {}) {
    const acm = item?.acm;
    if (exposed.has(acm)) return false;
    track("exposure", item, extra);
    exposed.add(acm);
    if (exposed.size > EXPOSURES_REMEMBERED) exposed.delete(exposed.values().next().value);
    return true;
  }

  async function post(batch) {
    const body = JSON.stringify({ events: batch });
    for (let attempt = 0; ; attempt += 1) {
      let response = null;
      let failure = null;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          keepalive: body.length < BEACON_BYTES,
        });
      } catch (error) {
        failure = error;
      }
      const status = response?.status ?? null;
      if (response && response.ok) return response.json();
      const retriable = response === null || status === 429 || status >= 500;
      if (!retriable) {
        const text = await response.text().catch(() => "");
        throw new EventsError("http", `POST ${endpoint} answered ${status}: ${text}`, {
          status,
          events: batch,
          body: text,
        });
      }
      if (attempt >= maxRetries) {
        const why = response === null ? String(failure) : `status ${status}`;
        throw new EventsError("gave_up", `gave up after ${attempt + 1} attempts (${why})`, {
          status,
          events: batch,
        });
      }
      const asked = response === null ? null : retryAfterMs(response.headers?.get("retry-after"));
      const base = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
      await sleep(asked ?? base / 2 + random() * (base / 2));
    }
  }

  async function drain() {
    while (queue.length > 0) {
      const batch = queue.splice(0, batchSize);
      stats.sent += batch.length;
      try {
        const answer = await post(batch);
        stats.accepted += answer.accepted ?? 0;
        stats.duplicates += answer.duplicates ?? 0;
        stats.rejected += answer.rejected ?? 0;
        if (answer.rejected > 0) {
          const results = (answer.results ?? []).filter((r) => r.status === "rejected");
          report(
            new EventsError("rejected", `${answer.rejected} event(s) rejected`, {
              status: 200,
              events: batch,
              results,
            }),
          );
        }
      } catch (error) {
        stats.failed += batch.length;
        report(error instanceof EventsError ? error : new EventsError("gave_up", String(error)));
      }
    }
  }

  /** Send everything queued so far; resolves when it is sent or given up. */
  function flush() {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    sending = sending.then(drain);
    return sending;
  }

  /** Send what is queued without waiting (page hide): beacons of at most BEACON_BYTES. */
  function beacon() {
    const nav = globalThis.navigator;
    if (!nav || typeof nav.sendBeacon !== "function") return false;
    while (queue.length > 0) {
      let n = Math.min(queue.length, batchSize);
      let body = JSON.stringify({ events: queue.slice(0, n) });
      while (body.length > BEACON_BYTES && n > 1) {
        n = Math.ceil(n / 2);
        body = JSON.stringify({ events: queue.slice(0, n) });
      }
      if (!nav.sendBeacon(endpoint, body)) return false; // left queued for flush()
      stats.sent += n;
      queue.splice(0, n);
    }
    return true;
  }

  const doc = globalThis.document;
  const onHide = () => {
    if (doc.visibilityState === "hidden") beacon();
  };
  const listening = pageHide && doc && typeof doc.addEventListener === "function";
  if (listening) doc.addEventListener("visibilitychange", onHide);

  /** Stop accepting events and send what is queued. */
  function close() {
    closed = true;
    if (listening) doc.removeEventListener("visibilitychange", onHide);
    return flush();
  }

  return {
    track,
    exposure,
    flush,
    close,
    beacon,
    stats: () => ({ ...stats, queued: queue.length }),
  };
}
