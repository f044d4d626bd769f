/**
 * Persistence with a data directory: a control plane killed (SIGKILL) in the middle of a stream of
 * writes comes back with every acknowledged object at its resourceVersion; a clean shutdown loses
 * nothing; custom resources are served again after a restart; a torn last record is dropped;
 * compaction into a snapshot keeps everything.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { allCRDs } from '../../src/api/crd.js';
import { ControlPlane, type ControlPlaneOptions } from '../../src/devcluster/server.js';
import { Persistence } from '../../src/devcluster/persistence.js';
import { Store, type Obj } from '../../src/devcluster/store.js';
import { Api, CT, configMap, found, nimService, path, watch } from '../helpers/api.js';
import { eventually } from '../helpers/devcluster.js';
import { REPO } from '../helpers/upstream.js';

const dirs: string[] = [];
const running: ControlPlane[] = [];
after(async () => {
  for (const cp of running) await cp.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nimop-data-'));
  dirs.push(d);
  return d;
}

async function start(opts: ControlPlaneOptions): Promise<{ cp: ControlPlane; api: Api }> {
  const cp = new ControlPlane(opts);
  await cp.start();
  running.push(cp);
  const crdType = cp.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  for (const crd of allCRDs()) cp.objects.ensure(crdType, undefined, crd as Obj);
  return { cp, api: new Api(cp.url) };
}

async function stop(cp: ControlPlane): Promise<void> {
  running.splice(running.indexOf(cp), 1);
  await cp.stop();
}

/** Every stored object, by resource and key, with its full contents. */
function everything(cp: ControlPlane): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const r of cp.store.resources()) {
    for (const o of cp.store.list(r)) out.set(`${r} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
  }
  return out;
}

describe('persistence', () => {
  test('a control plane killed mid-stream of writes restarts with every acknowledged object at its resourceVersion', async () => {
    const dir = dataDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/helpers/devcluster-process.ts'), '--data-dir', dir], { cwd: REPO });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    const url = (await found(() => /listening (http:\S+)/.exec(out) ?? undefined, 'the control plane process to listen', 30_000))[1]!;
    const api = new Api(url);
    await api.namespace('crash');

    // Eight writers, each creating its own configmaps and updating them; every acknowledged
    // write is recorded with its resourceVersion, and the writes in flight at the kill are known.
    const acked = new Map<string, { rv: string; v: string }>();
    const inFlight = new Set<string>();
    let killed = false;
    const writer = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const name = `w${w}-${Math.floor(i / 3)}`;
        const v = String(i % 3);
        inFlight.add(name);
        try {
          const r =
            i % 3 === 0
              ? await api.post(path('configmaps', 'crash'), configMap(name, { v }))
              : await api.patch(path('configmaps', 'crash', name), { data: { v } }, CT.merge);
          if (r.status >= 300) throw new Error(`write ${name}: ${r.status} ${JSON.stringify(r.body)}`);
          acked.set(name, { rv: r.body.metadata.resourceVersion, v });
          inFlight.delete(name);
        } catch (e) {
          if (killed) return;
          throw e;
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    await eventually(() => acked.size >= 150, '150 acknowledged objects', 30_000);
    killed = true;
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    await Promise.all(writers);
    const uncertain = new Set(inFlight);
    assert.ok(uncertain.size > 0, 'writes were in flight when the process was killed');

    const { cp } = await start({ dataDir: dir });
    let exact = 0;
    for (const [name, a] of acked) {
      const o = cp.store.get('/configmaps', 'crash', name);
      assert.ok(o, `acknowledged configmap ${name} survived the crash`);
      if (uncertain.has(name)) {
        // A write in flight may or may not have been committed; never anything older than acknowledged.
        assert.ok(Number(o.metadata.resourceVersion) >= Number(a.rv), `${name}: ${o.metadata.resourceVersion} < ${a.rv}`);
      } else {
        assert.equal(o.metadata.resourceVersion, a.rv, `${name} has its acknowledged resourceVersion`);
        assert.equal(o.data.v, a.v);
        exact++;
      }
    }
    assert.ok(exact >= 100);
    const highest = Math.max(...[...acked.values()].map((a) => Number(a.rv)));
    const next = await new Api(cp.url).create('configmaps', 'crash', configMap('after-restart'));
    assert.ok(Number(next.metadata.resourceVersion) > highest, 'the resourceVersion counter continues after the highest seen');
  });

  test('a clean shutdown loses nothing: the same objects, resourceVersions, custom kinds and deletions in progress', async () => {
    const dir = dataDir();
    let { cp, api } = await start({ dataDir: dir });
    const ns = await api.namespace('clean');
    await api.create('configmaps', ns, configMap('kept'));
    await api.create('configmaps', ns, configMap('gone'));
    await api.patch(path('configmaps', ns, 'kept'), { data: { a: '2' } }, CT.merge);
    assert.equal((await api.del(path('configmaps', ns, 'gone'))).status, 200);
    await api.create('nimservices', ns, nimService('llm'));
    const held = await api.create('configmaps', ns, { ...configMap('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    assert.equal((await api.del(path('configmaps', ns, 'held'))).status, 200);
    const before = everything(cp);
    const rvBefore = cp.store.currentRV();
    await stop(cp);

    ({ cp, api } = await start({ dataDir: dir }));
    assert.deepEqual(everything(cp), before);
    assert.equal(cp.store.currentRV(), rvBefore);
    assert.equal((await api.get(path('configmaps', ns, 'gone'))).status, 404);
    const llm = await api.get(path('nimservices', ns, 'llm'));
    assert.equal(llm.status, 200, 'the NIMService kind is served again after the restart');
    const discovery = await api.get('/apis/apps.nvidia.com/v1alpha1');
    assert.ok(discovery.body.resources.some((r: Obj) => r.name === 'nimservices'));
    // The object waiting on its finalizer goes once the finalizer is removed.
    const h = await api.get(path('configmaps', ns, 'held'));
    assert.ok(h.body.metadata.deletionTimestamp);
    assert.notEqual(h.body.metadata.resourceVersion, held.metadata.resourceVersion);
    assert.equal((await api.patch(path('configmaps', ns, 'held'), { metadata: { finalizers: null } }, CT.merge)).status, 200);
    assert.equal((await api.get(path('configmaps', ns, 'held'))).status, 404);
    const created = await api.create('configmaps', ns, configMap('new'));
    assert.ok(Number(created.metadata.resourceVersion) > rvBefore);
    // A watch from the resourceVersion of a list made after the restart resumes as usual.
    const list = await api.get(path('configmaps', ns));
    const w = await watch(cp.url, path('configmaps', ns, undefined, undefined, { watch: 'true', resourceVersion: list.body.metadata.resourceVersion }));
    await api.create('configmaps', ns, configMap('watched'));
    await w.until((e) => e.object.metadata?.name === 'watched', 'ADDED watched');
    w.close();
    await stop(cp);
  });

  test('a torn or corrupt last log record is dropped, and everything before it is kept', async () => {
    const dir = dataDir();
    let { cp, api } = await start({ dataDir: dir });
    const ns = await api.namespace('torn');
    const a = await api.create('configmaps', ns, configMap('a'));
    const b = await api.create('configmaps', ns, configMap('b'));
    await stop(cp);
    const wal = readdirSync(dir).find((f) => f.endsWith('.log'))!;
    // A crash in the middle of a write: half a record, without its newline.
    appendFileSync(join(dir, wal), '0badc0de {"op":"put","r":"/configmaps","o":{"metadata":{"name":"c","namesp');
    ({ cp, api } = await start({ dataDir: dir }));
    assert.ok(cp.persistence!.loaded.droppedBytes > 0);
    assert.equal((await api.get(path('configmaps', ns, 'a'))).body.metadata.resourceVersion, a.metadata.resourceVersion);
    assert.equal((await api.get(path('configmaps', ns, 'b'))).body.metadata.resourceVersion, b.metadata.resourceVersion);
    assert.equal((await api.get(path('configmaps', ns, 'c'))).status, 404);
    const c = await api.create('configmaps', ns, configMap('c'));
    await stop(cp);
    // A whole line whose checksum does not match its contents is not replayed either.
    const wal2 = readdirSync(dir).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir, wal2), `00000000 ${JSON.stringify({ op: 'del', r: '/configmaps', ns, n: 'a', rv: 999 })}\n`);
    ({ cp, api } = await start({ dataDir: dir }));
    assert.equal((await api.get(path('configmaps', ns, 'a'))).status, 200);
    assert.equal((await api.get(path('configmaps', ns, 'c'))).body.metadata.resourceVersion, c.metadata.resourceVersion);
    await stop(cp);
  });

  test('the log is compacted into a snapshot as it grows, and a restart reads the snapshot', async () => {
    const dir = dataDir();
    let { cp, api } = await start({ dataDir: dir, compactAfterBytes: 4096 });
    const ns = await api.namespace('compact');
    for (let i = 0; i < 20; i++) await api.create('configmaps', ns, configMap(`c${i}`, { v: 'x'.repeat(200) }));
    await eventually(() => cp.persistence!.info().compactions >= 3, 'compactions');
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.log')).length, 1, 'old logs are removed');
    const info = await api.get('/nimop/persistence');
    assert.equal(info.status, 200);
    assert.equal(info.body.dataDir, dir);
    const compacted = await api.post('/nimop/persistence/compact', {});
    assert.equal(compacted.body.logBytes, 0);
    await api.create('configmaps', ns, configMap('after-snapshot'));
    const before = everything(cp);
    await stop(cp);
    ({ cp, api } = await start({ dataDir: dir }));
    assert.deepEqual(everything(cp), before);
    await stop(cp);
  });

  test('a write a subscriber makes while a change is being delivered is restored as the latest state', () => {
    const dir = dataDir();
    const store = new Store();
    // A controller that reacts synchronously, subscribed before the log: its write (the newer one)
    // reaches the log before the change it reacts to.
    store.subscribe((e) => {
      if (e.type === 'ADDED' && !e.object.data?.echoed) store.put('/configmaps', { ...structuredClone(e.object), data: { echoed: 'yes' } });
    });
    const p = Persistence.open(dir, store);
    store.put('/configmaps', { metadata: { namespace: 'default', name: 'echo' }, data: {} });
    const latest = structuredClone(store.get('/configmaps', 'default', 'echo')!);
    assert.equal(latest.data.echoed, 'yes');
    p.close();
    const again = new Store();
    Persistence.open(dir, again).close();
    assert.deepEqual(again.get('/configmaps', 'default', 'echo'), latest);
    assert.equal(again.currentRV(), store.currentRV());
  });

  test('a data directory in use by a running control plane is refused', async () => {
    const dir = dataDir();
    const { cp } = await start({ dataDir: dir });
    assert.throws(() => new ControlPlane({ dataDir: dir }), /in use by process/);
    await stop(cp);
    const again = await start({ dataDir: dir });
    await stop(again.cp);
  });
});
