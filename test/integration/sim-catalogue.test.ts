/**
 * A user's image catalogue (SimulationOptions.cataloguePath, `nimop dev --catalogue FILE`): its
 * entries come before the built-in ones — a NIM of one's own, rules per command and environment,
 * and a rule that changes one command of a built-in NIM while the rest of it still works.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveServiceAddress, startSimulation, CatalogueError } from '../../src/devcluster/sim/index.js';
import type { Obj } from '../../src/devcluster/store.js';
import { condition, eventually, startSimCluster, type SimCluster } from '../helpers/sim.js';

const CATALOGUE = `
images:
  - match: "registry.example.com/acme/chat-nim:*"
    description: Our own NIM build.
    nim:
      model: acme/chat
      manifest: v2
      profiles: {engines: [vllm], tensorParallelism: [1], lora: false, buildable: false}
  - match: "registry.example.com/tools/job:*"
    run:
      - when: {command: "selftest"}
        log: "self test passed on \${NODE_NAME}"
        exit: 0
      - when: {env: {MODE: "^fail$"}}
        log: "failing as asked"
        exit: 4
    log: "default run"
    exit: 0
  - match: "nvcr.io/nim/meta/llama-3.1-8b-instruct:*"
    run:
      - when: {command: "^download-to-cache"}
        log: "ERROR mirror unreachable"
        exit: 1
`;

let c: SimCluster;
const dir = mkdtempSync(join(tmpdir(), 'nimop-catalogue-'));
before(async () => {
  const file = join(dir, 'catalogue.yaml');
  writeFileSync(file, CATALOGUE);
  c = await startSimCluster({ cataloguePath: file });
});
after(async () => {
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function pod(name: string, image: string, extra: Obj = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image, env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }], ...extra }] },
  });
}

const phase = (name: string) => c.get('/pods', 'default', name)?.status?.phase;

test('rules match on the command and the environment; the entry says what happens otherwise', async () => {
  await c.ok(['apply', '-f', '-'], pod('selftest', 'registry.example.com/tools/job:1', { args: ['selftest'] }));
  await c.ok(['apply', '-f', '-'], pod('fails', 'registry.example.com/tools/job:1', { env: [{ name: 'MODE', value: 'fail' }] }));
  await c.ok(['apply', '-f', '-'], pod('plain', 'registry.example.com/tools/job:1'));
  await eventually(() => phase('selftest') === 'Succeeded' && phase('fails') === 'Failed' && phase('plain') === 'Succeeded', 'all three done');
  assert.equal(await c.ok(['logs', 'selftest']), `self test passed on ${String(c.get('/pods', 'default', 'selftest')!.spec.nodeName)}\n`);
  assert.equal(await c.ok(['logs', 'fails']), 'failing as asked\n');
  assert.equal(c.get('/pods', 'default', 'fails')!.status.containerStatuses[0].state.terminated.exitCode, 4);
  assert.equal(await c.ok(['logs', 'plain']), 'default run\n');
});

test("a NIM of one's own serves its model; a rule overrides one command of a built-in NIM", async () => {
  await c.ok(['apply', '-f', '-'], pod('download', 'nvcr.io/nim/meta/llama-3.1-8b-instruct:1.12.0', { command: ['download-to-cache'], args: ['--all'] }));
  await eventually(() => phase('download') === 'Failed', 'the download to fail');
  assert.equal(await c.ok(['logs', 'download']), 'ERROR mirror unreachable\n');
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'acme', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'acme' } },
      template: { metadata: { labels: { app: 'acme' } }, spec: { containers: [{ name: 'nim', image: 'registry.example.com/acme/chat-nim:0.1', ports: [{ name: 'api', containerPort: 8000 }], readinessProbe: { httpGet: { path: '/v1/health/ready', port: 'api' } } }] } },
    },
  };
  await c.ok(['apply', '-f', '-'], JSON.stringify(d));
  await c.ok(['expose', 'deployment', 'acme', '--port=8000', '--target-port=api']);
  await eventually(() => condition(c.get('apps/deployments', 'default', 'acme'), 'Available')?.status === 'True', 'Available');
  const addr = await eventually(() => resolveServiceAddress(c.cp, 'default', 'acme', 8000), 'an address');
  const models = (await (await fetch(`http://${addr.host}:${addr.port}/v1/models`)).json()) as Obj;
  assert.equal(models.data[0].id, 'acme/chat');
});

test('a catalogue that cannot be read stops the simulation from starting, naming the file', () => {
  assert.throws(() => startSimulation(c.cp, { cataloguePath: '/nonexistent/catalogue.yaml' }), (e: Error) => e instanceof CatalogueError && e.message.startsWith('/nonexistent/catalogue.yaml'));
});
