/**
 * The deprecated NIMService `spec.expose.ingress` (an IngressSpec written out in full) as the
 * `spec.expose.router` that generates the same Ingress, when there is one.
 *
 * The router renders exactly one Ingress shape (inventory §2.2.7): `ingressClassName`, one rule for
 * the host `<name>.<namespace>.<hostDomainName>` with the path `/` (Prefix) to the Service `<name>`,
 * port `api`, and optionally one TLS entry for that host. A legacy spec of that shape maps onto
 * `{hostDomainName, annotations?, ingress: {ingressClass, tlsSecretName?}}`; anything else (several
 * rules or paths, other paths or backends, a default backend, another host) has no router form.
 */

/** Where the service lives: the router derives the host and backend from it. */
export interface ServiceIdentity {
  /** The NIMService's name (for a pipeline service, `services[].name`). */
  name?: string;
  namespace?: string;
  /** The Service's `api` port: `spec.expose.service.port`, 8000 when unset. */
  apiPort: number;
}

export interface RouterForm {
  hostDomainName: string;
  /** Taken over from the legacy ingress's `annotations` (the router puts them on the Ingress). */
  annotations: boolean;
  ingressClass: string;
  tlsSecretName?: string;
}

export type Mapping = { ok: true; router: RouterForm } | { ok: false; reason: string };

// The router's hostDomainName pattern and length (src/api/v1alpha1/expose.ts).
const DOMAIN = /^(([a-z0-9][a-z0-9-]*[a-z0-9])|[a-z0-9]+\.)*([a-z]+|xn--[a-z0-9]+)\.?$/;
const DOMAIN_MAX = 63;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const fail = (reason: string): Mapping => ({ ok: false, reason });

/** Keys of `o` other than `allowed` that hold something. */
function extraKeys(o: Rec, allowed: string[]): string[] {
  return Object.keys(o).filter((k) => !allowed.includes(k) && o[k] !== null && o[k] !== undefined);
}

function backendReason(backend: unknown, id: ServiceIdentity): string | undefined {
  const svc = isRec(backend) && isRec(backend.service) ? backend.service : undefined;
  if (!svc || extraKeys(backend as Rec, ['service']).length > 0) return 'its backend is not a Service';
  if (svc.name !== id.name) return `its backend is the Service ${JSON.stringify(svc.name)}, not the NIMService's own Service ${JSON.stringify(id.name)}`;
  const port = isRec(svc.port) ? svc.port : {};
  if (port.name === 'api' || (port.name === undefined && port.number === id.apiPort)) return undefined;
  return `its backend port is not the Service's api port (${id.apiPort})`;
}

/** The router form of a legacy ingress, or why there is none. */
export function routerFromLegacy(legacy: unknown, id: ServiceIdentity): Mapping {
  if (!isRec(legacy)) return fail('it is not a map');
  if (legacy.enabled !== true) return fail('it is not enabled, so it creates nothing; remove it, or set spec.expose.router.ingress to have an Ingress');
  if (!id.name) return fail('the object has no metadata.name, which the router\'s host is made of');
  if (!id.namespace) return fail('the object has no metadata.namespace, which the router\'s host is made of');
  if (legacy.annotations !== undefined && legacy.annotations !== null && !isRec(legacy.annotations)) return fail('its annotations are not a map');
  const spec = isRec(legacy.spec) ? legacy.spec : {};
  const extra = extraKeys(spec, ['ingressClassName', 'rules', 'tls']);
  if (extra.length > 0) return fail(`the router cannot express spec.${extra.join(', spec.')}`);
  const ingressClass = spec.ingressClassName;
  if (typeof ingressClass !== 'string' || ingressClass === '') return fail('it has no spec.ingressClassName, and the router needs an ingress class');

  const rules = list(spec.rules);
  if (rules.length !== 1) return fail(`it has ${rules.length} rules, and the router makes exactly one`);
  const rule = rules[0];
  if (!isRec(rule) || extraKeys(rule, ['host', 'http']).length > 0) return fail('its rule has fields the router cannot express');
  const host = rule.host;
  if (typeof host !== 'string' || host === '') return fail('its rule has no host, and the router\'s host is <name>.<namespace>.<hostDomainName>');
  const prefix = `${id.name}.${id.namespace}.`;
  if (!host.startsWith(prefix)) return fail(`its host ${host} is not of the router's form ${prefix}<hostDomainName>`);
  const domain = host.slice(prefix.length);
  if (domain.length > DOMAIN_MAX || !DOMAIN.test(domain)) return fail(`the domain ${JSON.stringify(domain)} of its host is not a valid hostDomainName`);

  const http = isRec(rule.http) ? rule.http : {};
  const paths = list(http.paths);
  if (paths.length !== 1) return fail(`its rule has ${paths.length} paths, and the router makes exactly one (/)`);
  const path = paths[0];
  if (!isRec(path) || extraKeys(path, ['path', 'pathType', 'backend']).length > 0) return fail('its path has fields the router cannot express');
  if (path.path !== '/' || path.pathType !== 'Prefix') {
    return fail(`its path is ${String(path.path ?? '<none>')} (${String(path.pathType ?? 'no pathType')}), and the router's is / (Prefix)`);
  }
  const backend = backendReason(path.backend, id);
  if (backend) return fail(backend);

  const router: RouterForm = { hostDomainName: domain, annotations: isRec(legacy.annotations) && Object.keys(legacy.annotations).length > 0, ingressClass };
  const tls = list(spec.tls);
  if (tls.length > 1) return fail(`it has ${tls.length} TLS entries, and the router makes at most one`);
  if (tls.length === 1) {
    const t = tls[0];
    if (!isRec(t) || extraKeys(t, ['hosts', 'secretName']).length > 0) return fail('its TLS entry has fields the router cannot express');
    if (typeof t.secretName !== 'string' || t.secretName === '') return fail('its TLS entry has no secretName, and the router needs spec.expose.router.ingress.tlsSecretName');
    const hosts = list(t.hosts);
    if (!(hosts.length === 0 || (hosts.length === 1 && hosts[0] === host))) return fail(`its TLS entry covers ${hosts.join(', ')}, and the router's covers only ${host}`);
    router.tlsSecretName = t.secretName;
  }
  return { ok: true, router };
}
