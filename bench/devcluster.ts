/**
 * Scale of the embedded control plane on this machine: N objects and W open watches.
 * Prints figures; asserts nothing about time.  Run: npm run bench:devcluster [-- objects watches]
 */
import { request } from 'node:http';
import { ControlPlane } from '../src/devcluster/server.js';

const OBJECTS = Number(process.argv[2] ?? 20_000);
const WATCHES = Number(process.argv[3] ?? 200);
const CONCURRENCY = 16;

const cp = new ControlPlane();
await cp.start();
const base = `${cp.url}/api/v1/namespaces/default/configmaps`;

async function timeIt<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

async function pool(n: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await job(next++);
  }));
}

const cm = (i: number, v = 'a') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { shard: String(i % 10) } }, data: { v } });
const post = (body: unknown) => fetch(base, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());

const [, createMs] = await timeIt(() => pool(OBJECTS, (i) => post(cm(i)).then(() => undefined)));
const [, getMs] = await timeIt(() => pool(2000, (i) => fetch(`${base}/cm-${(i * 7919) % OBJECTS}`).then((r) => r.arrayBuffer()).then(() => undefined)));
const [list, listMs] = await timeIt(() => fetch(base).then((r) => r.json() as Promise<{ items: unknown[] }>));
const [, selMs] = await timeIt(() => fetch(`${base}?labelSelector=shard%3D3`).then((r) => r.arrayBuffer()));

// Open the watches, then time how long each change takes to reach all of them.
let received = 0;
const waiters: (() => void)[] = [];
const watches = Array.from({ length: WATCHES }, () =>
  request(`${base}?watch=1&resourceVersion=${cp.store.currentRV()}`, (res) => {
    let buf = '';
    res.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        buf = buf.slice(nl + 1);
        received++;
        if (received % WATCHES === 0) waiters.shift()?.();
      }
    });
  }).end(),
);
while (cp.hub.open.size < WATCHES) await new Promise((r) => setTimeout(r, 10));
const UPDATES = 200;
const delivery: number[] = [];
for (let i = 0; i < UPDATES; i++) {
  const all = new Promise<void>((r) => waiters.push(r));
  const t0 = performance.now();
  await fetch(`${base}/cm-${i}`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ data: { v: `u${i}` } }) }).then((r) => r.arrayBuffer());
  await all;
  delivery.push(performance.now() - t0);
}
delivery.sort((a, b) => a - b);
const rss = process.memoryUsage().rss / 2 ** 20;

console.log(`objects stored:             ${list.items.length}`);
console.log(`create:                     ${(OBJECTS / (createMs / 1000)).toFixed(0)} objects/s (${CONCURRENCY} in flight)`);
console.log(`get:                        ${(2000 / (getMs / 1000)).toFixed(0)} requests/s`);
console.log(`list all ${OBJECTS}:            ${listMs.toFixed(0)} ms`);
console.log(`list with label selector:   ${selMs.toFixed(0)} ms`);
console.log(`open watches:               ${cp.hub.open.size}`);
console.log(`update → all ${WATCHES} watchers:  p50 ${delivery[UPDATES / 2]!.toFixed(1)} ms, p95 ${delivery[Math.floor(UPDATES * 0.95)]!.toFixed(1)} ms, max ${delivery.at(-1)!.toFixed(1)} ms`);
console.log(`resident memory:            ${rss.toFixed(0)} MiB`);
for (const w of watches) w.destroy();
await cp.stop();
process.exit(0);
