/** examples/: every manifest validates, and together they show every feature of the four kinds. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseManifests } from '../../src/api/manifests.js';
import { validateObject } from '../../src/api/validate.js';
import { formatFieldError } from '../../src/api/validation/index.js';
import { listFiles, REPO, rel } from '../helpers/upstream.js';

const EXAMPLES = join(REPO, 'examples');
const files = listFiles(EXAMPLES);
const objects: Record<string, any>[] = [];

for (const file of files) {
  test(`example ${rel(file, EXAMPLES)} validates`, () => {
    const parsed = parseManifests(readFileSync(file, 'utf8'));
    assert.deepEqual(parsed.errors, []);
    assert.ok(parsed.docs.length > 0, 'empty example');
    for (const doc of parsed.docs) {
      const v = validateObject(doc.value);
      assert.notEqual(v.status, 'invalid', `document ${doc.index}: ${v.errors.map(formatFieldError).join('\n')}`);
      if (v.status === 'valid') objects.push(v.object);
    }
  });
}

function has(o: unknown, path: string): boolean {
  let cur: any = o;
  for (const seg of path.split('.')) {
    if (Array.isArray(cur)) cur = cur.find((x) => x && typeof x === 'object' && seg in x)?.[seg];
    else cur = cur?.[seg];
    if (cur === undefined) return false;
  }
  return true;
}

/** Each feature: a kind and a field path that some example must set. */
const FEATURES: [string, string][] = [
  ['NIMCache', 'spec.source.ngc.model.profiles'],
  ['NIMCache', 'spec.source.ngc.model.gpus'],
  ['NIMCache', 'spec.source.ngc.model.lora'],
  ['NIMCache', 'spec.source.ngc.model.buildable'],
  ['NIMCache', 'spec.source.ngc.modelEndpoint'],
  ['NIMCache', 'spec.source.hf'],
  ['NIMCache', 'spec.source.dataStore'],
  ['NIMCache', 'spec.env'],
  ['NIMCache', 'spec.proxy.certConfigMap'],
  ['NIMService', 'spec.storage.nimCache.profile'],
  ['NIMService', 'spec.storage.pvc'],
  ['NIMService', 'spec.scale.hpa.metrics'],
  ['NIMService', 'spec.expose.router.ingress'],
  ['NIMService', 'spec.expose.router.gateway'],
  ['NIMService', 'spec.expose.router.eppConfig'],
  ['NIMService', 'spec.metrics.serviceMonitor'],
  ['NIMService', 'spec.multiNode.mpi'],
  ['NIMService', 'spec.multiNode.ray'],
  ['NIMService', 'spec.draResources.claimCreationSpec'],
  ['NIMService', 'spec.draResources.resourceClaimTemplateName'],
  ['NIMService', 'spec.initContainers'],
  ['NIMService', 'spec.sidecarContainers'],
  ['NIMService', 'spec.readinessProbe.probe'],
  ['NIMService', 'spec.tolerations'],
  ['NIMPipeline', 'spec.services.dependencies'],
  ['NIMBuild', 'spec.nimCache.profile'],
];

test('the examples show every feature', () => {
  const missing = FEATURES.filter(([kind, path]) => !objects.some((o) => o.kind === kind && has(o, path)));
  assert.deepEqual(missing, []);
  assert.ok(objects.some((o) => o.kind === 'NIMService' && o.spec.inferencePlatform === 'kserve'), 'a KServe example');
});

test('no example uses a floating image tag', () => {
  const tags = objects.flatMap((o) => JSON.stringify(o).match(/"tag":"[^"]*"/g) ?? []);
  assert.ok(tags.length > 0);
  assert.deepEqual(tags.filter((t) => /"tag":"(latest)?"/.test(t)), []);
});
