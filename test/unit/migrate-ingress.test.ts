/** The legacy NIMService ingress as a router: which IngressSpecs the router can generate, and why not the others. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routerFromLegacy, type ServiceIdentity } from '../../src/migrate/ingress.js';

type Obj = Record<string, unknown>;
const ID = { name: 'llama', namespace: 'ai', apiPort: 8000 };

function legacy(spec: Obj = {}, extra: Obj = {}): Obj {
  return {
    enabled: true,
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'llama.ai.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'llama', port: { name: 'api' } } } }] },
        },
      ],
      ...spec,
    },
    ...extra,
  };
}

function reason(l: unknown, id: ServiceIdentity = ID): string {
  const m = routerFromLegacy(l, id);
  assert.equal(m.ok, false, JSON.stringify(m));
  return m.ok ? '' : m.reason;
}

test('the shape the router generates maps to hostDomainName, ingressClass, tlsSecretName and the annotations', () => {
  assert.deepEqual(routerFromLegacy(legacy(), ID), { ok: true, router: { hostDomainName: 'example.com', annotations: false, ingressClass: 'nginx' } });
  const tls = legacy({ tls: [{ hosts: ['llama.ai.example.com'], secretName: 'llama-tls' }] }, { annotations: { a: 'b' } });
  assert.deepEqual(routerFromLegacy(tls, ID), {
    ok: true,
    router: { hostDomainName: 'example.com', annotations: true, ingressClass: 'nginx', tlsSecretName: 'llama-tls' },
  });
  // The api port by number is the same backend.
  const byNumber = legacy();
  ((byNumber.spec as Obj).rules as Obj[])[0]!.http = { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'llama', port: { number: 9000 } } } }] };
  assert.equal(routerFromLegacy(byNumber, { ...ID, apiPort: 9000 }).ok, true);
  assert.match(reason(byNumber), /backend port is not the Service's api port \(8000\)/);
});

test('what the router cannot express is named', () => {
  assert.match(reason({ ...legacy(), enabled: false }), /^it is not enabled, so it creates nothing/);
  assert.match(reason(legacy({ ingressClassName: undefined })), /no spec\.ingressClassName/);
  assert.match(reason(legacy({ defaultBackend: { service: { name: 'x' } } })), /cannot express spec\.defaultBackend/);
  const rules = (legacy().spec as Obj).rules as Obj[];
  assert.match(reason(legacy({ rules: [...rules, ...rules] })), /it has 2 rules, and the router makes exactly one/);
  assert.match(reason(legacy({ rules: [{ ...rules[0], host: 'chat.example.com' }] })), /host chat\.example\.com is not of the router's form llama\.ai\.<hostDomainName>/);
  assert.match(reason(legacy({ rules: [{ ...rules[0], host: 'llama.ai.Example.COM' }] })), /not a valid hostDomainName/);
  const path = (p: Obj) => legacy({ rules: [{ host: 'llama.ai.example.com', http: { paths: [p] } }] });
  const backend = { service: { name: 'llama', port: { name: 'api' } } };
  assert.match(reason(path({ path: '/v1', pathType: 'Prefix', backend })), /its path is \/v1 \(Prefix\), and the router's is \/ \(Prefix\)/);
  assert.match(reason(path({ path: '/', pathType: 'Exact', backend })), /\(Exact\)/);
  assert.match(reason(path({ path: '/', pathType: 'Prefix', backend: { service: { name: 'other', port: { name: 'api' } } } })), /Service "other", not the NIMService's own Service "llama"/);
  assert.match(reason(path({ path: '/', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'b' } } })), /not a Service/);
  assert.match(reason(legacy({ tls: [{ hosts: ['llama.ai.example.com'] }] })), /TLS entry has no secretName/);
  assert.match(reason(legacy({ tls: [{ hosts: ['*.example.com'], secretName: 's' }] })), /covers \*\.example\.com, and the router's covers only llama\.ai\.example\.com/);
  assert.match(reason(legacy({ tls: [{ secretName: 'a' }, { secretName: 'b' }] })), /2 TLS entries/);
  assert.match(reason(legacy(), { ...ID, namespace: undefined }), /no metadata\.namespace/);
});
