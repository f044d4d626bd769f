/**
 * The operator image, checked by reading the Dockerfile (no docker here): multi-stage, production
 * dependencies only, non-root, no shell at run time, `nimop run` as the entrypoint; and the
 * .dockerignore lets in exactly what the Dockerfile copies from the build context.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installObjects } from '../../src/install/manifests.js';
import { REPO } from '../helpers/upstream.js';

const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
/** Instructions, continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const args = Object.fromEntries(instructions.filter((l) => /^ARG \w+=/.test(l)).map((l) => l.slice(4).split('=') as [string, string]));
const expand = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');
const stages = instructions.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : acc.length ? [...acc.slice(0, -1), [...acc[acc.length - 1]!, l]] : acc), []);
const final = stages[stages.length - 1]!;

test('multi-stage: a Node 20 build stage compiles, the runtime stage is a distroless Node 20 image', () => {
  assert.ok(stages.length >= 2);
  const build = stages.find((s) => s.some((l) => /npm run build/.test(l)));
  assert.ok(build, 'a stage runs npm run build');
  assert.match(expand(build![0]!), /^FROM node:20[\w.-]*\b/);
  assert.ok(build!.some((l) => /^RUN npm ci\b/.test(l)));
  assert.match(expand(final[0]!), /^FROM gcr\.io\/distroless\/nodejs20-debian12:nonroot$/);
  assert.ok(!final.some((l) => l.startsWith('RUN ')), 'no RUN in the runtime stage: it has no shell');
});

test('the runtime has production dependencies only, installed without the build\'s prepare script', () => {
  const deps = stages.find((s) => s.some((l) => /npm ci --omit=dev/.test(l)));
  assert.ok(deps);
  assert.ok(deps!.some((l) => /npm ci --omit=dev --ignore-scripts/.test(l)), '"prepare" runs tsc, which --omit=dev leaves out');
  const copies = final.filter((l) => l.startsWith('COPY '));
  for (const what of [/--from=deps \S+node_modules/, /--from=build \S+dist/, /^COPY package\.json package-lock\.json/, /^COPY bin /, /^COPY deploy\/crds /]) {
    assert.ok(copies.some((l) => what.test(l)), `runtime copies ${what}`);
  }
});

test('runs as 65532, non-root, with `nimop run` as the entrypoint and the operator\'s ports exposed', () => {
  const user = final.filter((l) => l.startsWith('USER ')).pop();
  assert.equal(user, 'USER 65532:65532');
  const entry = final.find((l) => l.startsWith('ENTRYPOINT '))!;
  const argv = JSON.parse(entry.slice('ENTRYPOINT '.length)) as string[];
  assert.match(argv[0]!, /(^|\/)node$/);
  assert.deepEqual(argv.slice(1), ['bin/nimop.js', 'run']);
  const d = installObjects().find((o) => o.kind === 'Deployment') as any;
  assert.equal(d.spec.template.spec.securityContext.runAsUser, 65532, 'the Deployment runs as the image\'s user');
  const exposed = final.find((l) => l.startsWith('EXPOSE '))!.split(/\s+/).slice(1).map(Number);
  assert.deepEqual(exposed, d.spec.template.spec.containers[0].ports.map((p: { containerPort: number }) => p.containerPort));
});

test('.dockerignore admits what the Dockerfile copies from the context, and nothing else', () => {
  const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(ignore[0], '*', 'everything is excluded first');
  const admitted = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  const sources = instructions
    .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
    .flatMap((l) => l.split(/\s+/).slice(1, -1))
    .map((s) => s.replace(/\/$/, ''));
  assert.deepEqual([...new Set(sources)].sort(), [...admitted].sort());
  for (const s of sources) assert.ok(existsSync(join(REPO, s)), `${s} exists`);
  assert.ok(!admitted.some((a) => /node_modules|dist|test|\.git/.test(a)));
});
