/**
 * Rewrites of deprecated NIMService fields on a parsed YAML document, in place: the nodes that are
 * not rewritten (with their comments, key order and scalar styles) are left untouched.
 *
 * - `spec.podAffinity` (ignored) → `spec.affinity.podAffinity`
 * - `spec.expose.ingress` (an IngressSpec in full) → `spec.expose.router` with `ingress`, when the
 *   router can generate the same Ingress (./ingress.ts); otherwise a warning and no change.
 *
 * Both apply to a NIMService's `spec` and to each `spec.services[].spec` of a NIMPipeline.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, Pair, Scalar, type Document, type Node, type YAMLMap } from 'yaml';
import { routerFromLegacy, type ServiceIdentity } from './ingress.js';

export const GROUP = 'apps.nvidia.com';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a rewrite did (`from → to`) and what it left alone (`field: left as is: why`). */
export interface Outcome {
  changes: string[];
  warnings: string[];
}

function keyOf(p: Pair): unknown {
  return isScalar(p.key) ? p.key.value : p.key;
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return (map.items as Pair[]).find((p) => keyOf(p) === key);
}

function removePair(map: YAMLMap, pair: Pair): void {
  map.items.splice(map.items.indexOf(pair), 1);
}

/** A key node, taking over the comment and blank line that stood before `from`'s key. */
function keyLike(doc: Document, name: string, from?: Pair): Scalar {
  const key = doc.createNode(name) as Scalar;
  if (from && isScalar(from.key)) {
    if (from.key.commentBefore) key.commentBefore = from.key.commentBefore;
    if (from.key.spaceBefore) key.spaceBefore = true;
  }
  return key;
}

/** The node at `path` under `node` when it is a scalar (its quoting kept), else a new node of `value`. */
function reuse(doc: Document, node: unknown, path: (string | number)[], value: unknown): Node {
  const found = isMap(node) || isSeq(node) ? node.getIn(path, true) : undefined;
  return isScalar(found) && found.value === value ? found : (doc.createNode(value) as Node);
}

/** `spec.podAffinity` → `spec.affinity.podAffinity`. */
function migratePodAffinity(doc: Document, spec: YAMLMap, specJS: Rec, at: string, out: Outcome): void {
  const old = pairOf(spec, 'podAffinity');
  if (!old) return;
  const from = `${at}.podAffinity`;
  const to = `${at}.affinity.podAffinity`;
  if (specJS.podAffinity === null || specJS.podAffinity === undefined) {
    removePair(spec, old);
    out.changes.push(`${from} → removed (it was empty)`);
    return;
  }
  const affinity = pairOf(spec, 'affinity');
  if (!affinity) {
    // Rename in place, so the field keeps its position and the comments before it.
    const wrapper = doc.createNode({}) as YAMLMap;
    wrapper.items.push(new Pair(doc.createNode('podAffinity'), old.value));
    old.key = keyLike(doc, 'affinity', old);
    old.value = wrapper;
    out.changes.push(`${from} → ${to}`);
    return;
  }
  const affinityJS = specJS.affinity;
  if (affinityJS !== null && affinityJS !== undefined && !(isRec(affinityJS) && isMap(affinity.value))) {
    out.warnings.push(`${from}: left as is: ${at}.affinity is not a map to move it into`);
    return;
  }
  if (isRec(affinityJS) && affinityJS.podAffinity !== undefined && affinityJS.podAffinity !== null) {
    if (isDeepStrictEqual(affinityJS.podAffinity, specJS.podAffinity)) {
      removePair(spec, old);
      out.changes.push(`${from} → removed (${to} already says the same)`);
    } else {
      out.warnings.push(`${from}: left as is: ${to} is set too and differs; merge them by hand (${from} is ignored)`);
    }
    return;
  }
  let target: YAMLMap;
  if (isMap(affinity.value)) target = affinity.value;
  else {
    target = doc.createNode({}) as YAMLMap;
    affinity.value = target;
  }
  const existing = pairOf(target, 'podAffinity');
  if (existing) removePair(target, existing); // `podAffinity: null`
  target.items.push(new Pair(keyLike(doc, 'podAffinity', old), old.value));
  removePair(spec, old);
  out.changes.push(`${from} → ${to}`);
}

/** `spec.expose.ingress` → `spec.expose.router.ingress`, when the router can say the same. */
function migrateIngress(doc: Document, spec: YAMLMap, specJS: Rec, at: string, id: { name?: string; namespace?: string }, out: Outcome): void {
  const exposeJS = isRec(specJS.expose) ? specJS.expose : undefined;
  const expose = pairOf(spec, 'expose')?.value;
  if (!exposeJS || !isMap(expose)) return;
  const legacy = pairOf(expose, 'ingress');
  if (!legacy) return;
  const from = `${at}.expose.ingress`;
  const leave = (why: string): void => {
    out.warnings.push(`${from}: left as is: ${why}`);
  };
  const service = isRec(exposeJS.service) ? exposeJS.service : {};
  const identity: ServiceIdentity = { ...id, apiPort: typeof service.port === 'number' ? service.port : 8000 };
  const mapping = routerFromLegacy(exposeJS.ingress, identity);
  if (!mapping.ok) return leave(mapping.reason);
  const r = mapping.router;

  const routerJS = exposeJS.router;
  const routerPair = pairOf(expose, 'router');
  if (routerJS !== undefined && routerJS !== null && !(isRec(routerJS) && routerPair && isMap(routerPair.value))) {
    return leave(`${at}.expose.router is not a map to add the ingress to`);
  }
  const router = isRec(routerJS) ? routerJS : {};
  if (router.ingress !== undefined && router.ingress !== null) return leave(`${at}.expose.router.ingress is set too; remove ${from} once the router does what it did`);
  if (router.gateway !== undefined && router.gateway !== null) return leave(`${at}.expose.router.gateway is set, and the router cannot have both a gateway and an ingress`);
  if (router.hostDomainName !== undefined && router.hostDomainName !== r.hostDomainName) {
    return leave(`its host needs ${at}.expose.router.hostDomainName ${r.hostDomainName}, but it is ${String(router.hostDomainName)}`);
  }
  const legacyAnnotations = isRec(exposeJS.ingress) ? exposeJS.ingress.annotations : undefined;
  const routerAnnotations = isRec(router.annotations) && Object.keys(router.annotations).length > 0;
  if (r.annotations && routerAnnotations && !isDeepStrictEqual(router.annotations, legacyAnnotations)) {
    return leave(`its annotations differ from ${at}.expose.router.annotations`);
  }
  if (!r.annotations && routerAnnotations) return leave(`${at}.expose.router.annotations would be put on the Ingress, which has none today`);

  // The new nodes reuse the legacy scalars and annotations, so their quoting and comments stay.
  const ingress = doc.createNode({}) as YAMLMap;
  ingress.items.push(new Pair(doc.createNode('ingressClass'), reuse(doc, legacy.value, ['spec', 'ingressClassName'], r.ingressClass)));
  if (r.tlsSecretName !== undefined) {
    ingress.items.push(new Pair(doc.createNode('tlsSecretName'), reuse(doc, legacy.value, ['spec', 'tls', 0, 'secretName'], r.tlsSecretName)));
  }
  const annotationsNode = isMap(legacy.value) ? legacy.value.get('annotations', true) : undefined;
  const annotations = () => (isMap(annotationsNode) ? annotationsNode : (doc.createNode(legacyAnnotations) as Node));

  if (!routerPair) {
    const value = doc.createNode({}) as YAMLMap;
    value.items.push(new Pair(doc.createNode('hostDomainName'), doc.createNode(r.hostDomainName)));
    if (r.annotations) value.items.push(new Pair(doc.createNode('annotations'), annotations()));
    value.items.push(new Pair(doc.createNode('ingress'), ingress));
    legacy.key = keyLike(doc, 'router', legacy);
    legacy.value = value;
  } else {
    let target: YAMLMap;
    if (isMap(routerPair.value)) target = routerPair.value;
    else {
      target = doc.createNode({}) as YAMLMap;
      routerPair.value = target;
    }
    // hostDomainName first, then the annotations, as in a router written from scratch.
    if (router.hostDomainName === undefined) {
      const stale = pairOf(target, 'hostDomainName');
      if (stale) removePair(target, stale);
      target.items.unshift(new Pair(doc.createNode('hostDomainName'), doc.createNode(r.hostDomainName)));
    }
    if (r.annotations && !routerAnnotations) {
      const stale = pairOf(target, 'annotations');
      if (stale) removePair(target, stale);
      const host = pairOf(target, 'hostDomainName');
      target.items.splice(host ? target.items.indexOf(host) + 1 : 0, 0, new Pair(doc.createNode('annotations'), annotations()));
    }
    const stale = pairOf(target, 'ingress');
    if (stale) removePair(target, stale);
    target.items.push(new Pair(doc.createNode('ingress'), ingress));
    removePair(expose, legacy);
  }
  out.changes.push(`${from} → ${at}.expose.router.ingress`);
}

/** Both rewrites on one NIMService spec (`at` is its path, e.g. `spec.services[0].spec`). */
export function migrateServiceSpec(
  doc: Document,
  spec: unknown,
  specJS: unknown,
  at: string,
  id: { name?: string; namespace?: string },
  out: Outcome,
): void {
  if (!isMap(spec) || !isRec(specJS)) return;
  migratePodAffinity(doc, spec, specJS, at, out);
  migrateIngress(doc, spec, specJS, at, id, out);
}

/** The rewrites of one object (a document's root map, or an item of a `kind: List`). */
export function migrateObject(doc: Document, node: unknown, js: unknown): Outcome {
  const out: Outcome = { changes: [], warnings: [] };
  if (!isMap(node) || !isRec(js)) return out;
  if (typeof js.apiVersion !== 'string' || !js.apiVersion.startsWith(`${GROUP}/`)) return out;
  const meta = isRec(js.metadata) ? js.metadata : {};
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : undefined;
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : undefined;
  const spec = node.get('spec', true);
  if (js.kind === 'NIMService') {
    migrateServiceSpec(doc, spec, js.spec, 'spec', { name, namespace }, out);
  } else if (js.kind === 'NIMPipeline' && isMap(spec) && isRec(js.spec) && Array.isArray(js.spec.services)) {
    const services = spec.get('services', true);
    if (!isSeq(services)) return out;
    js.spec.services.forEach((svcJS: unknown, i) => {
      const svc = services.items[i];
      if (!isMap(svc) || !isRec(svcJS)) return;
      const svcName = typeof svcJS.name === 'string' && svcJS.name !== '' ? svcJS.name : undefined;
      migrateServiceSpec(doc, svc.get('spec', true), svcJS.spec, `spec.services[${i}].spec`, { name: svcName, namespace }, out);
    });
  }
  return out;
}
