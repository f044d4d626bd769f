/** When the webhook's self-made certificates are renewed (cert-plan.ts), with real certificates and a moved clock. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { planCertificates, planChanges, renewAt, renewCertificates, type CertMaterial, type CertPolicy } from '../../../src/webhooks/cert-plan.js';
import { certInfo, signedBy, splitPems } from '../../../src/webhooks/certs.js';

const H = 3_600_000;
const policy: CertPolicy = { names: ['hook.ops.svc', 'hook.ops.svc.cluster.local', '127.0.0.1'], servingValidityMs: 30 * H, caValidityMs: 300 * H };
const T0 = Date.UTC(2030, 0, 1);

async function fresh(now = T0): Promise<CertMaterial> {
  return renewCertificates(undefined, planCertificates(undefined, policy, now), policy, now);
}
const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
const issuerOf = (m: CertMaterial) => splitPems(m.bundle).find((ca) => signedBy(certInfo(m.cert)!, certInfo(ca)!));

describe('self-made webhook certificates', () => {
  test('a first set: a CA and a serving certificate for exactly the names, signed by it; nothing more to do', async () => {
    const m = await fresh();
    const leaf = certInfo(m.cert)!;
    assert.deepEqual(new Set(leaf.names), new Set(policy.names));
    assert.equal(splitPems(m.bundle).length, 1);
    assert.equal(issuerOf(m), splitPems(m.bundle)[0]);
    const plan = planCertificates(m, policy, T0 + H, () => true);
    assert.equal(planChanges(plan), false);
    assert.equal(plan.nextCheckAt, renewAt(leaf), 'the next look is when the serving certificate falls due');
  });

  test('the serving certificate is renewed at two thirds of its lifetime, by the same CA', async () => {
    const m = await fresh();
    const due = renewAt(certInfo(m.cert)!);
    assert.equal(planChanges(planCertificates(m, policy, due - 1000, () => true)), false);
    const plan = planCertificates(m, policy, due, () => true);
    assert.match(plan.newLeaf ?? '', /two thirds/);
    assert.equal(plan.newCA, undefined);
    const next = await renewCertificates(m, plan, policy, due);
    assert.notEqual(fp(next.cert), fp(m.cert));
    assert.equal(next.bundle, m.bundle, 'the CA bundle is unchanged');
    assert.equal(issuerOf(next), splitPems(m.bundle)[0]);
  });

  test('a change of names, a key that does not match or an expired certificate means a new one at once', async () => {
    const m = await fresh();
    assert.match(planCertificates(m, { ...policy, names: ['other.ops.svc'] }, T0 + H, () => true).newLeaf ?? '', /names/);
    const other = await fresh();
    assert.match(planCertificates({ ...m, key: other.key }, policy, T0 + H, () => true).newLeaf ?? '', /key does not match/);
    assert.match(planCertificates(m, policy, T0 + 31 * H, () => false).newLeaf ?? '', /expired/);
    assert.match(planCertificates({ ...m, cert: 'garbage' }, policy, T0 + H, () => false).newLeaf ?? '', /no serving certificate/);
  });

  test('the CA is renewed at two thirds of its lifetime; the old CA stays in the bundle; the certificate follows once the new CA is trusted', async () => {
    const m = await fresh();
    const oldCA = splitPems(m.bundle)[0]!;
    const due = renewAt(certInfo(oldCA)!);
    const trustOld = (f: string) => f === fp(oldCA);
    const plan = planCertificates(m, policy, due, trustOld);
    assert.match(plan.newCA ?? '', /two thirds/);
    // The serving certificate (issued at T0, 30 h) has expired by then: it is replaced at once.
    assert.ok(plan.newLeaf);
    // A serving certificate still good waits for the bundle to reach the API server.
    const recent = await renewCertificates(m, { dropped: [], nextCheckAt: 0, newLeaf: 'test' }, policy, due - H);
    const plan2 = planCertificates(recent, policy, due, trustOld);
    assert.ok(plan2.newCA);
    assert.equal(plan2.newLeaf, undefined);
    const rotated = await renewCertificates(recent, plan2, policy, due);
    const [newCA, keptCA] = splitPems(rotated.bundle);
    assert.equal(keptCA, oldCA, 'the old CA stays, after the new one');
    assert.notEqual(newCA, oldCA);
    assert.equal(rotated.cert, recent.cert, 'the serving certificate is kept for now');
    // Not yet trusted: it waits (and looks again soon).
    const waiting = planCertificates(rotated, policy, due + 1000, trustOld);
    assert.equal(planChanges(waiting), false);
    assert.equal(waiting.waitingForTrust, true);
    assert.ok(waiting.nextCheckAt <= due + 1000 + 5000);
    // Trusted: a new serving certificate, signed by the new CA.
    const trustBoth = (f: string) => f === fp(oldCA) || f === fp(newCA!);
    const follow = planCertificates(rotated, policy, due + 2000, trustBoth);
    assert.match(follow.newLeaf ?? '', /previous CA/);
    const done = await renewCertificates(rotated, follow, policy, due + 2000);
    assert.equal(issuerOf(done), newCA);
    assert.equal(done.bundle, rotated.bundle);
  });

  test('an expired old CA leaves the bundle; with no webhook configuration to wait for, a new CA signs at once', async () => {
    const m = await fresh();
    const oldCA = splitPems(m.bundle)[0]!;
    const due = renewAt(certInfo(oldCA)!);
    const plan = planCertificates(m, policy, due);
    assert.ok(plan.newCA && plan.newLeaf, 'nobody to wait for: CA and certificate together');
    const rotated = await renewCertificates(m, plan, policy, due);
    assert.equal(splitPems(rotated.bundle).length, 2);
    assert.equal(issuerOf(rotated), splitPems(rotated.bundle)[0]);
    const later = planCertificates(rotated, policy, certInfo(oldCA)!.notAfter + 1000);
    assert.deepEqual(later.dropped, [fp(oldCA)]);
    const pruned = await renewCertificates(rotated, later, policy, certInfo(oldCA)!.notAfter + 1000);
    assert.deepEqual(splitPems(pruned.bundle), [splitPems(rotated.bundle)[0]]);
  });

  test('a serving certificate never outlives the CA that signed it', async () => {
    const short: CertPolicy = { ...policy, caValidityMs: 40 * H };
    const m = await renewCertificates(undefined, planCertificates(undefined, short, T0), short, T0);
    const late = T0 + 20 * H;
    const next = await renewCertificates(m, { dropped: [], nextCheckAt: 0, newLeaf: 'test' }, short, late);
    assert.ok(certInfo(next.cert)!.notAfter <= certInfo(splitPems(next.bundle)[0])!.notAfter);
  });

  test('a Secret with a broken CA gets a new CA and certificate', async () => {
    const m = await fresh();
    const other = await fresh();
    const plan = planCertificates({ ...m, caKey: other.caKey }, policy, T0 + H, () => true);
    assert.match(plan.newCA ?? '', /key does not match/);
  });
});
