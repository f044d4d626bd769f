/**
 * Test-only launcher: an embedded control plane with a data directory, in a process of its own, so
 * that a test can kill it (SIGKILL) and restart it. Prints `listening <url>` once it serves; SIGTERM
 * stops it cleanly (exit 0).
 *
 *   node --import tsx test/helpers/devcluster-process.ts --data-dir DIR [--port N]
 */
import { parseArgs } from 'node:util';
import { allCRDs } from '../../src/api/crd.js';
import { ControlPlane } from '../../src/devcluster/server.js';
import type { Obj } from '../../src/devcluster/store.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, port: { type: 'string', default: '0' } } });
if (!values['data-dir']) throw new Error('--data-dir is required');
const cp = new ControlPlane({ dataDir: values['data-dir'], port: Number(values.port) });
await cp.start();
const crdType = cp.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
for (const crd of allCRDs()) cp.objects.ensure(crdType, undefined, crd as Obj);
process.stdout.write(`listening ${cp.url}\n`);
process.once('SIGTERM', () => {
  void cp.stop().then(() => process.exit(0));
});
