/**
 * Every manifest in examples/ applied with kubectl to the control plane with the simulation, the
 * add-ons and every controller: each object settles in a state, every NIMService's reason is one
 * docs/status.md documents, and no reconcile fails. (The cluster is small on purpose: some services
 * wait for GPUs, and must say so.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { installAddons, startAddonSimulations } from '../../src/devcluster/ecosystem/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { startOperator, type RunningOperator } from '../helpers/operator.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';
import { REPO } from '../helpers/upstream.js';

/** The reasons docs/status.md lists in its tables. */
const DOCUMENTED = new Set([...readFileSync(join(REPO, 'docs', 'status.md'), 'utf8').matchAll(/^\| `([A-Za-z]+)`/gm)].map((m) => m[1]!));

let c: SimCluster;
let op: RunningOperator;
let addons: { stop(): void } | undefined;
const failures: string[] = [];
before(async () => {
  c = await startSimCluster({ timeScale: 0.05 });
  installAddons(c.cp);
  addons = startAddonSimulations(c.cp, ['kserve']);
  op = await startOperator(c);
  const error = op.manager.log.error.bind(op.manager.log);
  op.manager.log.error = ((obj: unknown, msg?: string) => {
    failures.push(`${JSON.stringify(obj)} ${msg ?? ''}`);
    error(obj as never, msg as never);
  }) as typeof op.manager.log.error;
  await c.ok(['create', 'namespace', 'nim-service']);
  for (const ns of ['default', 'nim-service']) {
    await c.ok(['create', 'secret', 'generic', 'ngc-api-secret', '-n', ns, '--from-literal=NGC_API_KEY=x']);
    await c.ok(['create', 'secret', 'generic', 'hf-token', '-n', ns, '--from-literal=HF_TOKEN=x']);
    await c.ok(['create', 'secret', 'docker-registry', 'ngc-secret', '-n', ns, '--docker-server=nvcr.io', '--docker-username=x', '--docker-password=y']);
  }
});
after(async () => {
  await op?.stop();
  addons?.stop();
  await c?.stop();
});

test('kubectl apply -R -f examples/ succeeds, and every object settles with a documented reason and no failed reconcile', async () => {
  // The quick start brings its own Secret, already made above.
  const r = await c.kubectl(['apply', '-R', '-f', join(REPO, 'examples')]);
  assert.equal(r.status, 0, r.stderr);
  const objects = () => ['nimcaches', 'nimservices', 'nimpipelines', 'nimbuilds'].flatMap((k) => c.list(`apps.nvidia.com/${k}`));
  assert.ok(objects().length >= 40, `${objects().length} objects`);
  const unsettled = () =>
    objects()
      .filter((o: Obj) => !o.status?.state || (o.kind === 'NIMService' && !condition(o, 'Ready')))
      .map((o: Obj) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
  await eventually(() => unsettled().length === 0, `every object to have a state (still without: ${unsettled().join(', ')})`, 60_000);
  // Some reach Ready, through every platform the examples use (downloads take a little while).
  const ready = (plural: string) => c.list(`apps.nvidia.com/${plural}`).filter((o: Obj) => o.status?.state === 'Ready').length;
  await eventually(() => ready('nimcaches') >= 15 && ready('nimservices') >= 8, `caches and services Ready (now ${ready('nimcaches')} and ${ready('nimservices')})`, 60_000);
  const undocumented = c
    .list('apps.nvidia.com/nimservices')
    .map((o: Obj) => [o.metadata.name, condition(o, o.status.state === 'Failed' ? 'Failed' : 'Ready')?.reason] as const)
    .filter(([, reason]) => !DOCUMENTED.has(reason));
  assert.deepEqual(undocumented, [], 'reasons not in docs/status.md');
  assert.deepEqual(failures.filter((f) => !/Conflict|the object has been modified/.test(f)), []);
});
