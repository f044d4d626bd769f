/** `nimop dev`: the embedded control plane on this machine, with our CRDs installed. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allCRDs } from '../api/crd.js';
import { parseManifests } from '../api/manifests.js';
import { ApiError } from '../devcluster/errors.js';
import { writeKubeconfig } from '../devcluster/kubeconfig.js';
import { FaultSpecError, faultSpecFromFlags } from '../devcluster/faults-config.js';
import { KubeConfig } from '@kubernetes/client-node';
import { KUBE_VERSION } from '../devcluster/discovery.js';
import { Client, type ResourceRef } from '../runtime/client/client.js';
import { RestClient } from '../runtime/client/rest.js';
import type { AdmissionFacts } from '../webhooks/rules/index.js';
import { Informer } from '../runtime/informer.js';
import { informerFacts } from '../webhooks/facts.js';
import { kserveConfigFor } from '../controllers/nimservice/kserve-config.js';
import { NIMSERVICE_PATH, WebhookServer, selfSignedCertificate, webhookConfiguration } from '../webhooks/server.js';
import { VERSION } from './version.js';
import { startDevOperator } from './dev-operator.js';
import { ADDONS, DEFAULT_ADDONS, installAddons, startAddonSimulations } from '../devcluster/ecosystem/index.js';
import { ControlPlane } from '../devcluster/server.js';
import { CatalogueError, devOptions, startSimulation, type Simulation } from '../devcluster/sim/index.js';
import type { Obj } from '../devcluster/store.js';

export interface DevOptions {
  port: string;
  kubeconfig: string;
  operator: boolean;
  filename?: string[];
  dataDir?: string;
  faults?: string;
  fault?: string[];
  simulation: boolean;
  webhook: boolean;
  strict?: boolean;
  catalogue?: string;
  stepDelay?: string;
  timeScale?: string;
  without?: string;
  logLevel?: string;
}

/** Creates the objects of manifest files (as `kubectl create -f`); returns one line per object. */
export function createFromFiles(cp: ControlPlane, files: string[]): string[] {
  const lines: string[] = [];
  for (const file of files) {
    const parsed = parseManifests(readFileSync(file, 'utf8'));
    for (const e of parsed.errors) lines.push(`${file}:${e.line}:${e.col}: ${e.message}`);
    for (const doc of parsed.docs) {
      const o = doc.value as Obj;
      const t = cp.registry.byKind(String(o?.apiVersion), String(o?.kind));
      if (!t) {
        lines.push(`${file}: document ${doc.index}: no resource type for ${String(o?.apiVersion)} ${String(o?.kind)}`);
        continue;
      }
      try {
        const r = cp.objects.create(t, t.namespaced ? (o.metadata?.namespace ?? 'default') : undefined, o, { fieldManager: 'nimop', fieldValidation: 'Strict' });
        lines.push(`${t.kind.toLowerCase()}${t.group ? `.${t.group}` : ''}/${r.object.metadata.name} created`);
      } catch (e) {
        lines.push(`${file}: document ${doc.index}: ${e instanceof ApiError ? e.message : String(e)}`);
      }
    }
  }
  return lines;
}

export async function devCommand(opts: DevOptions): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`error: --port must be a port number, got "${opts.port}"\n`);
    return 2;
  }
  let faults;
  try {
    faults = faultSpecFromFlags({ ...(opts.faults ? { faults: opts.faults } : {}), ...(opts.fault ? { fault: opts.fault } : {}) });
  } catch (e) {
    if (e instanceof FaultSpecError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const cp = new ControlPlane({ port, ...(faults ? { faults } : {}), ...(opts.dataDir ? { dataDir: resolve(opts.dataDir) } : {}) });
  try {
    await cp.start();
  } catch (e) {
    process.stderr.write(`error: cannot listen on 127.0.0.1:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  const crdType = cp.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  // ensure(): on a restart with --data-dir the CRDs are already there (and may need an update).
  for (const crd of allCRDs()) cp.objects.ensure(crdType, undefined, crd as Obj, { fieldManager: 'nimop' });
  const without = (opts.without ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = without.filter((n) => !(n in ADDONS));
  if (unknown.length) {
    process.stderr.write(`error: --without: unknown add-on ${unknown.join(', ')} (known: ${Object.keys(ADDONS).join(', ')})\n`);
    await cp.stop();
    return 2;
  }
  const addons = DEFAULT_ADDONS.filter((n) => !without.includes(n));
  installAddons(cp, addons);
  let sim: Simulation | undefined;
  if (opts.simulation) {
    const step = opts.stepDelay !== undefined ? Number(opts.stepDelay) : undefined;
    const scale = opts.timeScale !== undefined ? Number(opts.timeScale) : undefined;
    if ((step !== undefined && !(step >= 0)) || (scale !== undefined && !(scale >= 0))) {
      process.stderr.write('error: --step-delay and --time-scale must be non-negative numbers\n');
      await cp.stop();
      return 2;
    }
    try {
      sim = startSimulation(
        cp,
        devOptions({
          ...(opts.catalogue ? { cataloguePath: resolve(opts.catalogue) } : {}),
          ...(step !== undefined ? { stepDelayMs: step } : {}),
          ...(scale !== undefined ? { timeScale: scale } : {}),
        }),
      );
    } catch (e) {
      if (e instanceof CatalogueError) {
        process.stderr.write(`error: ${e.message}\n`);
        await cp.stop();
        return 2;
      }
      throw e;
    }
  }
  // Add-ons with a simulated controller of their own (KServe) run with the simulation.
  const addonSims = sim ? startAddonSimulations(cp, addons) : undefined;
  const kubeconfig = resolve(opts.kubeconfig);
  writeKubeconfig(kubeconfig, cp.url);
  const webhook = opts.webhook ? await startDevWebhook(cp, kubeconfig, opts.strict ?? false) : undefined;
  const out: string[] = [
    `nimop dev: embedded control plane listening on ${cp.url} (Kubernetes ${KUBE_VERSION.gitVersion} API)`,
    `CRDs installed: ${allCRDs().map((c) => (c.metadata as Obj).name).join(', ')}`,
    `Point kubectl at it:  export KUBECONFIG=${kubeconfig}`,
    '                      kubectl get nimservices,nimcaches -A',
  ];
  if (sim) {
    const st = sim.stats();
    out.push(`Simulated cluster: ${st.nodes} GPU nodes; pods run from the image catalogue, NIMs answer on loopback (kubectl get nodes -L nvidia.com/gpu.product).`);
  } else out.push('Simulation off: no pods run, nothing becomes Ready.');
  if (webhook) out.push(`Admission webhook registered (${opts.strict ? 'strict: sharp edges are refused' : 'sharp edges are warnings'}); --no-webhook turns it off.`);
  if (opts.dataDir) out.push(`Objects persist in ${resolve(opts.dataDir)} across restarts.`);
  if (faults) out.push('Fault injection is on (see GET /nimop/faults).');
  if (addons.length) out.push(`Add-ons: ${addons.map((n) => `${n} (${ADDONS[n]!.description})`).join('; ')}; --without NAME leaves one out.`);
  const operator = opts.operator
    ? await startDevOperator(cp, kubeconfig, sim, { logLevel: opts.logLevel ?? 'warn', print: (lines) => process.stdout.write(`${lines.join('\n')}\n`) })
    : undefined;
  out.push(operator ? 'The operator runs with it (--no-operator: the control plane only); its log goes to standard error.' : 'The operator is off (--no-operator): nothing reconciles NIMCaches or NIMServices.');
  if (opts.filename?.length) out.push(...createFromFiles(cp, opts.filename));
  out.push('Press Ctrl-C to stop.');
  process.stdout.write(`${out.join('\n')}\n`);
  // A short status table now, and again whenever it changes (checked every 10 s).
  let last = '';
  const status = () => {
    const table = statusTable(cp, sim);
    if (table !== last) process.stdout.write(`${table}\n`);
    last = table;
  };
  status();
  const ticker = setInterval(status, 10_000);
  ticker.unref();
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(ticker);
  await operator?.stop();
  await webhook?.stop();
  addonSims?.stop();
  await sim?.stop();
  await cp.stop();
  process.stdout.write('nimop dev: stopped\n');
  return 0;
}

/** Objects stored, open watches and, with the simulation, nodes, pods by phase and NIM endpoints. */
export function statusTable(cp: ControlPlane, sim?: Simulation): string {
  const objects = cp.store.resources().reduce((n, r) => n + cp.store.list(r).length, 0);
  const head = ['OBJECTS', 'WATCHES'];
  const row = [String(objects), String(cp.hub.open.size)];
  if (sim) {
    const st = sim.stats();
    head.push('NODES', 'PODS PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'NIM ENDPOINTS');
    row.push(String(st.nodes), String(st.pods.pending), String(st.pods.running), String(st.pods.succeeded), String(st.pods.failed), String(st.nimEndpoints));
  }
  const width = head.map((h, i) => Math.max(h.length, row[i]!.length));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd();
  return `${line(head)}\n${line(row)}`;
}

const NODES: ResourceRef = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };
const NIMCACHES: ResourceRef = { group: 'apps.nvidia.com', version: 'v1alpha1', plural: 'nimcaches', kind: 'NIMCache', namespaced: true };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

/**
 * The operator's admission webhook, as production runs it: HTTPS with a certificate of its own,
 * registered with the control plane, reading what it needs (nodes, NIMCaches) through the API.
 */
async function startDevWebhook(cp: ControlPlane, kubeconfig: string, strict: boolean): Promise<{ stop(): Promise<void> }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new Client(new RestClient(kc, { userAgent: `nim-operator/${VERSION}` }));
  // The same caches and namespace policy (label nimop.dev/admission-policy) as nimop run's webhook.
  const caches = [NODES, NIMCACHES, NAMESPACES].map((ref) => new Informer(client, ref, { backoffInitialMs: 100 }));
  for (const inf of caches) inf.start();
  await Promise.all(caches.map((inf) => inf.waitForSync()));
  const [nodes, nimCaches, namespaces] = caches as [Informer, Informer, Informer];
  const known = informerFacts({ nodes, nimCaches, namespaces, strict, serverVersion: KUBE_VERSION.gitVersion, kserveDefaultMode: () => kserveConfigFor(client).peek() });
  const certs = await selfSignedCertificate(['localhost'], ['127.0.0.1']);
  const server = new WebhookServer({
    port: 0,
    host: '127.0.0.1',
    cert: certs.cert,
    key: certs.key,
    strict: (namespace) => known.strict(namespace),
    facts: async (namespace?: string): Promise<AdmissionFacts> => known.facts(namespace),
  });
  const port = await server.start();
  const config = webhookConfiguration({ url: `https://127.0.0.1:${port}${NIMSERVICE_PATH}`, caBundle: certs.caBundle });
  const type = cp.registry.get('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations')!;
  cp.objects.ensure(type, undefined, config as Obj, { fieldManager: 'nimop' });
  return {
    async stop() {
      await server.stop();
      await Promise.all(caches.map((inf) => inf.stop()));
      client.rest.close();
    },
  };
}
