/**
 * The pieces of the control plane's authorizer that kube-apiserver defines precisely: how a request
 * URL becomes authorization attributes (RequestInfoFactory) and how a PolicyRule matches them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aggregate, ruleAllows } from '../../src/devcluster/authz/rbac.js';
import { requestAttributes } from '../../src/devcluster/authz/request-info.js';
import type { Attributes, PolicyRule } from '../../src/devcluster/authz/types.js';

const user = { username: 'system:serviceaccount:a:sa', groups: ['system:authenticated'] };
const attrs = (method: string, url: string) => {
  const a = requestAttributes(method, new URL(url, 'http://x'), user);
  return { verb: a.verb, resourceRequest: a.resourceRequest, path: a.path, namespace: a.namespace, apiGroup: a.apiGroup, apiVersion: a.apiVersion, resource: a.resource, subresource: a.subresource, name: a.name };
};
const res = (over: Partial<Attributes>): Attributes => ({
  user, verb: 'get', resourceRequest: true, path: '', namespace: 'a', apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', name: 'p', ...over,
});

describe('request attributes', () => {
  test('verbs from the method, the name and the watch parameter or prefix', () => {
    assert.equal(attrs('GET', '/api/v1/namespaces/a/pods').verb, 'list');
    assert.equal(attrs('GET', '/api/v1/namespaces/a/pods?watch=true').verb, 'watch');
    assert.equal(attrs('GET', '/api/v1/namespaces/a/pods?watch=1').verb, 'watch');
    assert.equal(attrs('GET', '/api/v1/namespaces/a/pods?watch=false').verb, 'list');
    assert.deepEqual(attrs('GET', '/api/v1/watch/namespaces/a/pods/p'), { verb: 'watch', resourceRequest: true, path: '/api/v1/watch/namespaces/a/pods/p', namespace: 'a', apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', name: 'p' });
    assert.equal(attrs('GET', '/api/v1/namespaces/a/pods/p').verb, 'get');
    assert.equal(attrs('POST', '/api/v1/namespaces/a/pods').verb, 'create');
    assert.equal(attrs('PUT', '/api/v1/namespaces/a/pods/p').verb, 'update');
    assert.equal(attrs('PATCH', '/apis/apps/v1/namespaces/a/deployments/d').verb, 'patch');
    assert.equal(attrs('DELETE', '/api/v1/namespaces/a/pods/p').verb, 'delete');
    assert.equal(attrs('DELETE', '/api/v1/namespaces/a/pods').verb, 'deletecollection');
  });

  test('a list or watch pinned by fieldSelector metadata.name is about that name', () => {
    assert.equal(attrs('GET', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Ds1').name, 's1');
    assert.equal(attrs('GET', '/api/v1/namespaces/a/secrets?watch=1&fieldSelector=type%3Dx,metadata.name%3D%3Ds2').name, 's2');
    assert.equal(attrs('GET', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name!%3Ds1').name, '');
    assert.equal(attrs('GET', '/api/v1/watch/namespaces/a/secrets?fieldSelector=metadata.name%3Ds1').name, '', 'not for the /watch/ prefix');
  });

  test('groups, subresources, and namespaces (a Namespace is in itself)', () => {
    assert.deepEqual(attrs('GET', '/apis/apps/v1/namespaces/a/deployments/d/scale'), { verb: 'get', resourceRequest: true, path: '/apis/apps/v1/namespaces/a/deployments/d/scale', namespace: 'a', apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: 'scale', name: 'd' });
    const ns = attrs('PUT', '/api/v1/namespaces/a/finalize');
    assert.deepEqual([ns.resource, ns.name, ns.subresource, ns.namespace], ['namespaces', 'a', 'finalize', 'a']);
    const nodes = attrs('GET', '/api/v1/nodes/n1');
    assert.deepEqual([nodes.resource, nodes.name, nodes.namespace], ['nodes', 'n1', '']);
  });

  test('discovery paths and everything else are non-resource requests with the method as verb', () => {
    for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/healthz', '/openapi/v3/apis/apps/v1']) {
      const a = attrs('GET', p);
      assert.deepEqual([a.resourceRequest, a.verb, a.path], [false, 'get', p], p);
    }
    assert.equal(attrs('POST', '/logs').verb, 'post');
  });
});

describe('rule matching', () => {
  const allows = (rule: PolicyRule, over: Partial<Attributes>) => ruleAllows(res(over), rule);

  test('verbs and API groups: exact or *', () => {
    assert.equal(allows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, {}), true);
    assert.equal(allows({ verbs: ['*'], apiGroups: ['*'], resources: ['pods'] }, { verb: 'deletecollection' }), true);
    assert.equal(allows({ verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, {}), false);
    assert.equal(allows({ verbs: ['list'], apiGroups: [''], resources: ['pods'] }, {}), false);
  });

  test('resources: * is everything, subresources only as resource/sub or */sub', () => {
    const rule = (resources: string[]) => ({ verbs: ['get'], apiGroups: [''], resources });
    assert.equal(allows(rule(['*']), { subresource: 'log' }), true);
    assert.equal(allows(rule(['pods']), { subresource: 'log' }), false);
    assert.equal(allows(rule(['pods/log']), { subresource: 'log' }), true);
    assert.equal(allows(rule(['*/log']), { subresource: 'log' }), true);
    assert.equal(allows(rule(['*/log']), {}), false);
    assert.equal(allows(rule(['*/status']), { subresource: 'log' }), false);
    assert.equal(allows(rule(['pods/*']), { subresource: 'log' }), false, 'kube has no resource/* wildcard');
  });

  test('resourceNames: empty is every name; a request without a name matches no named rule', () => {
    const named = { verbs: ['get', 'list', 'create'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] };
    assert.equal(allows(named, {}), true);
    assert.equal(allows(named, { name: 'q' }), false);
    assert.equal(allows(named, { verb: 'list', name: '' }), false);
    assert.equal(allows(named, { verb: 'create', name: '' }), false);
  });

  test('nonResourceURLs: exact, * or a prefix ending in *', () => {
    const nr = (path: string, urls: string[]) => ruleAllows(res({ resourceRequest: false, path, resource: '', name: '' }), { verbs: ['get'], nonResourceURLs: urls });
    assert.equal(nr('/healthz', ['/healthz']), true);
    assert.equal(nr('/healthz/etcd', ['/healthz']), false);
    assert.equal(nr('/healthz/etcd', ['/healthz/*']), true);
    assert.equal(nr('/apis/apps/v1', ['/apis/*']), true);
    assert.equal(nr('/metrics', ['*']), true);
    assert.equal(ruleAllows(res({}), { verbs: ['get'], nonResourceURLs: ['*'] }), false, 'a non-resource rule grants no resource');
  });

  test('resolution errors aggregate as utilerrors does', () => {
    assert.equal(aggregate(['a']), 'a');
    assert.equal(aggregate(['a', 'b', 'a']), '[a, b]');
  });
});
