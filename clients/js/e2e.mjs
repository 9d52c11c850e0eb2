// Send one recommend answer's events through prism-events.mjs to a real node: each
// item's exposure (twice: the client sends it once) and a click on the first item.
// Usage: node clients/js/e2e.mjs URL USER_ID ITEMS_JSON   (ITEMS_JSON: the answer's items)
// Prints the client's stats as JSON; exits 1 if the node refused or lost an event.
import { createEventsClient } from "./prism-events.mjs";

const [url, userId, itemsJson] = process.argv.slice(2);
if (!url || !userId || !itemsJson) {
  console.error("usage: node e2e.mjs URL USER_ID ITEMS_JSON");
  process.exit(2);
}
const items = JSON.parse(itemsJson);
const errors = [];
const client = createEventsClient({
  url,
  userId,
  batchSize: 2,
  backoffMs: 100,
  onError: (error) => errors.push(`${error.kind}: ${error.message}`),
});
for (const item of items) client.exposure(item);
for (const item of items) client.exposure(item);
client.track("click", items[0]);
await client.close();
console.log(JSON.stringify({ ...client.stats(), errors }));
process.exit(errors.length === 0 ? 0 : 1);
