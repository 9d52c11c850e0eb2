// Unit tests of prism-events.mjs (node --test clients/js/). The fetch is a test double:
// it stands for the browser's network boundary; the end-to-end test against a real
// node is tests/clients/test_js_events.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { EventsError, MAX_BATCH, createEventsClient, retryAfterMs } from "./prism-events.mjs";

const item = (n) => ({ item_id: `i${n}`, acm: `3.home_feed.token-${n}` });

/** A fetch answering from `answers` in turn (a status, a [status, headers] pair, or an
 * Error to throw); once they run out, 200 accepting every event. */
function fakeFetch(answers = []) {
  const calls = [];
  const fetch = async (url, init) => {
    const events = JSON.parse(init.body).events;
    calls.push({ url, events });
    const next = answers.shift() ?? 200;
    if (next instanceof Error) throw next;
    const [status, headers] = Array.isArray(next) ? next : [next, {}];
    const body =
      status === 200
        ? { accepted: events.length, duplicates: 0, rejected: 0, results: [] }
        : { error: "nope" };
    return new Response(JSON.stringify(body), { status, headers });
  };
  return { fetch, calls };
}

function client(fetch, options = {}) {
  const delays = [];
  const errors = [];
  const c = createEventsClient({
    url: "http://node.test/",
    userId: "42",
    fetch,
    flushIntervalMs: 0,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    onError: (e) => errors.push(e),
    ...options,
  });
  return { c, delays, errors };
}

test("events are sent to /v1/events in the API's shape", async () => {
  const { fetch, calls } = fakeFetch();
  const { c } = client(fetch);
  c.track("order", item(1), { value: 129, order_id: "o-1" });
  await c.flush();
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, "http://node.test/v1/events");
  const [ev] = calls[0].events;
  assert.deepEqual(
    { ...ev, event_id: "x", ts: 0 },
    {
      event_id: "x",
      type: "order",
      acm: item(1).acm,
      user_id: "42",
      item_id: "i1",
      ts: 0,
      value: 129,
      order_id: "o-1",
    },
  );
  assert.ok(Math.abs(ev.ts - Date.now() / 1000) < 5, "ts is unix seconds");
  assert.deepEqual(c.stats(), {
    sent: 1,
    accepted: 1,
    duplicates: 0,
    rejected: 0,
    dropped: 0,
    failed: 0,
    queued: 0,
  });
});

test("batches hold at most batchSize events and keep their order", async () => {
  const { fetch, calls } = fakeFetch();
  const { c } = client(fetch, { batchSize: 3 });
  for (let n = 0; n < 8; n += 1) c.track("click", item(n));
  await c.flush();
  assert.deepEqual(
    calls.map((call) => call.events.length),
    [3, 3, 2],
  );
  const sent = calls.flatMap((call) => call.events.map((e) => e.item_id));
  assert.deepEqual(sent, ["i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7"]);
});

test("a full batch is sent without waiting for flush()", async () => {
  const { fetch, calls } = fakeFetch();
  const { c } = client(fetch, { batchSize: 2, flushIntervalMs: 60000 });
  c.track("click", item(1));
  assert.equal(calls.length, 0);
  c.track("click", item(2));
  await c.close(); // also clears the interval timer
  assert.equal(calls.length, 1);
  assert.equal(calls[0].events.length, 2);
});

test("the interval timer flushes a partial batch", async () => {
  const { fetch, calls } = fakeFetch();
  const { c } = client(fetch, { flushIntervalMs: 5 });
  c.track("click", item(1));
  for (let i = 0; i < 200 && calls.length === 0; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(calls.length, 1);
  await c.close();
});

test("batchSize is capped at the API's limit", () => {
  const { fetch } = fakeFetch();
  assert.throws(() => client(fetch, { batchSize: MAX_BATCH + 1 }), RangeError);
  assert.doesNotThrow(() => client(fetch, { batchSize: MAX_BATCH }));
});

test("an exposure is sent once per acm token", async () => {
  const { fetch, calls } = fakeFetch();
  const { c } = client(fetch);
  assert.equal(c.exposure(item(1)), true);
  assert.equal(c.exposure(item(1)), false);
  assert.equal(c.exposure(item(2)), true);
  c.track("click", item(1));
  c.track("click", item(1)); // clicks are not de-duplicated by the client
  await c.flush();
  assert.equal(c.exposure(item(1)), false, "remembered after the flush");
  await c.flush();
  const sent = calls.flatMap((call) => call.events.map((e) => `${e.type}:${e.item_id}`));
  assert.deepEqual(sent, ["exposure:i1", "exposure:i2", "click:i1", "click:i1"]);
});

test("network errors, 429 and 5xx are retried with exponential backoff", async () => {
  const { fetch, calls } = fakeFetch([new TypeError("fetch failed"), 503, 500, 429]);
  const { c, delays, errors } = client(fetch, { backoffMs: 100, maxRetries: 5 });
  c.track("click", item(1));
  await c.flush();
  assert.equal(calls.length, 5);
  // base * 2^attempt, jittered into [base/2, base): 0.5 here
  assert.deepEqual(delays, [75, 150, 300, 600]);
  assert.equal(errors.length, 0);
  assert.equal(c.stats().accepted, 1);
});

test("the backoff is capped and jittered", async () => {
  const { fetch } = fakeFetch([503, 503, 503]);
  const { c, delays } = client(fetch, { backoffMs: 100, maxBackoffMs: 200, random: () => 0 });
  c.track("click", item(1));
  await c.flush();
  assert.deepEqual(delays, [50, 100, 100]);
});

test("Retry-After is respected", async () => {
  const { fetch, calls } = fakeFetch([
    [429, { "Retry-After": "3" }],
    [503, { "Retry-After": "0" }],
  ]);
  const { c, delays } = client(fetch, { backoffMs: 100 });
  c.track("click", item(1));
  await c.flush();
  assert.equal(calls.length, 3);
  assert.deepEqual(delays, [3000, 0]);
  assert.equal(retryAfterMs("Wed, 21 Oct 2015 07:28:10 GMT", Date.UTC(2015, 9, 21, 7, 28)), 10000);
  assert.equal(retryAfterMs("soon"), null);
});

test("retries give up after maxRetries and report the batch", async () => {
  const { fetch, calls } = fakeFetch([503, 503, 503, 503]);
  const { c, errors } = client(fetch, { maxRetries: 2 });
  c.track("click", item(1));
  await c.flush();
  assert.equal(calls.length, 3);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof EventsError);
  assert.equal(errors[0].kind, "gave_up");
  assert.equal(errors[0].events[0].item_id, "i1");
  assert.equal(c.stats().failed, 1);
});

for (const status of [400, 401, 404, 413, 422]) {
  test(`a ${status} is reported, not retried, and the next batch still goes`, async () => {
    const { fetch, calls } = fakeFetch([status]);
    const { c, errors, delays } = client(fetch, { batchSize: 1 });
    c.track("click", item(1));
    c.track("click", item(2));
    await c.flush();
    assert.deepEqual(
      calls.map((call) => call.events[0].item_id),
      ["i1", "i2"],
    );
    assert.deepEqual(delays, []);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].kind, "http");
    assert.equal(errors[0].status, status);
    assert.match(errors[0].body, /nope/);
  });
}

test("a retried batch stays ahead of later events", async () => {
  const { fetch, calls } = fakeFetch([503]);
  const { c } = client(fetch, { batchSize: 2 });
  c.track("click", item(1));
  c.track("click", item(2)); // a full batch: sending starts
  c.track("click", item(3));
  await c.flush();
  const order = calls.map((call) => call.events.map((e) => e.item_id).join(","));
  assert.deepEqual(order, ["i1,i2", "i1,i2", "i3"]);
});

test("events the node rejects are reported with their answers", async () => {
  const fetch = async () =>
    new Response(
      JSON.stringify({
        accepted: 0,
        duplicates: 0,
        rejected: 1,
        results: [{ event_id: "e", status: "rejected", reason: "stale" }],
      }),
      { status: 200 },
    );
  const { c, errors } = client(fetch);
  c.track("click", item(1));
  await c.flush();
  assert.equal(errors[0].kind, "rejected");
  assert.equal(errors[0].results[0].reason, "stale");
  assert.equal(c.stats().rejected, 1);
});

test("the queue is bounded: the oldest events are dropped and counted", async () => {
  const { fetch, calls } = fakeFetch();
  const { c } = client(fetch, { maxQueue: 3 });
  for (let n = 0; n < 5; n += 1) c.track("click", item(n));
  assert.equal(c.stats().dropped, 2);
  await c.flush();
  assert.deepEqual(
    calls[0].events.map((e) => e.item_id),
    ["i2", "i3", "i4"],
  );
});

test("bad input is refused at once", () => {
  const { fetch } = fakeFetch();
  const { c } = client(fetch);
  assert.throws(() => c.track("view", item(1)), /type must be one of/);
  assert.throws(() => c.track("click", { item_id: "i1" }), /acm/);
  assert.throws(() => c.track("click", { acm: "t" }), /item_id/);
  const anonymous = client(fetch, { userId: undefined }).c;
  assert.throws(() => anonymous.track("click", item(1)), /user_id/);
  assert.doesNotThrow(() => anonymous.track("click", item(1), { user_id: "7" }));
  assert.throws(() => createEventsClient({ fetch }), /url/);
});

test("a closed client takes no more events", async () => {
  const { fetch } = fakeFetch();
  const { c } = client(fetch);
  await c.close();
  assert.throws(() => c.track("click", item(1)), /closed/);
});

/** Set a global for one test (Node 20 has no t.mock.property). */
function setGlobal(t, name, value) {
  const saved = Object.getOwnPropertyDescriptor(globalThis, name);
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  t.after(() => {
    if (saved) Object.defineProperty(globalThis, name, saved);
    else delete globalThis[name];
  });
}

test("on page hide the queue goes out by sendBeacon", async (t) => {
  const beacons = [];
  const listeners = {};
  const doc = {
    visibilityState: "visible",
    addEventListener: (name, fn) => {
      listeners[name] = fn;
    },
    removeEventListener: (name) => {
      delete listeners[name];
    },
  };
  const nav = { sendBeacon: (url, body) => beacons.push({ url, body }) > 0 };
  setGlobal(t, "document", doc);
  setGlobal(t, "navigator", nav);
  const { fetch, calls } = fakeFetch();
  const { c } = client(fetch, { batchSize: 2, flushIntervalMs: 60000 });
  c.exposure(item(1));
  doc.visibilityState = "hidden";
  listeners.visibilitychange();
  assert.equal(beacons.length, 1);
  assert.equal(beacons[0].url, "http://node.test/v1/events");
  assert.deepEqual(
    JSON.parse(beacons[0].body).events.map((e) => e.item_id),
    ["i1"],
  );
  assert.equal(c.stats().queued, 0);
  await c.close();
  assert.equal(calls.length, 0);
  assert.equal(listeners.visibilitychange, undefined);
});
