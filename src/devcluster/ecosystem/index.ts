/**
 * What `nimop dev` installs so the operator's optional integrations can be tried on one machine:
 * minimal CRDs of our own for the Gateway API and the Prometheus Operator (typed where the
 * operator writes, the rest preserved), and KServe's InferenceService with a simulated KServe
 * controller (kserve.ts, kserve-sim.ts), started by `startAddonSimulations` with the simulation.
 * Each is a named add-on, so a test or a user can leave one out to see how
 * the operator reports a missing API.
 */
import type { ControlPlane } from '../server.js';
import type { Obj } from '../store.js';
import { inferenceServiceCRD } from './kserve.js';
import { startKServeSimulation, type RunningAddon } from './kserve-sim.js';

const preserve = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

interface MinimalKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  short?: string[];
  columns?: { name: string; type: string; jsonPath: string }[];
  scope?: 'Namespaced' | 'Cluster';
}

/** A CRD whose spec and status are preserved objects. */
export function minimalCRD(k: MinimalKind): Obj {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${k.group}`, annotations: { 'sim.nimop.dev/minimal': 'true' } },
    spec: {
      group: k.group,
      names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.kind.toLowerCase(), ...(k.short ? { shortNames: k.short } : {}) },
      scope: k.scope ?? 'Namespaced',
      versions: [
        {
          name: k.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: preserve, status: preserve },
            },
          },
          additionalPrinterColumns: [...(k.columns ?? []), { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
        },
      ],
    },
  };
}

const GATEWAY = 'gateway.networking.k8s.io';

/** The add-ons `nimop dev` knows, by name. */
export const ADDONS: Record<string, { description: string; crds: () => Obj[]; simulate?: (cp: ControlPlane) => RunningAddon }> = {
  'gateway-api': {
    description: 'Gateway API v1: GatewayClass, Gateway, HTTPRoute, GRPCRoute',
    crds: () => [
      minimalCRD({ group: GATEWAY, version: 'v1', kind: 'GatewayClass', plural: 'gatewayclasses', short: ['gc'], scope: 'Cluster' }),
      minimalCRD({ group: GATEWAY, version: 'v1', kind: 'Gateway', plural: 'gateways', short: ['gtw'], columns: [{ name: 'Class', type: 'string', jsonPath: '.spec.gatewayClassName' }] }),
      minimalCRD({ group: GATEWAY, version: 'v1', kind: 'HTTPRoute', plural: 'httproutes', columns: [{ name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' }] }),
      minimalCRD({ group: GATEWAY, version: 'v1', kind: 'GRPCRoute', plural: 'grpcroutes', columns: [{ name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' }] }),
    ],
  },
  'inference-extension': {
    description: 'Gateway API inference extension: InferencePool, InferenceObjective',
    crds: () => [
      minimalCRD({ group: 'inference.networking.k8s.io', version: 'v1', kind: 'InferencePool', plural: 'inferencepools', short: ['infpool'] }),
      minimalCRD({ group: 'inference.networking.x-k8s.io', version: 'v1alpha2', kind: 'InferenceObjective', plural: 'inferenceobjectives' }),
    ],
  },
  'compute-domains': {
    description: 'NVIDIA DRA driver: ComputeDomain',
    crds: () => [minimalCRD({ group: 'resource.nvidia.com', version: 'v1beta1', kind: 'ComputeDomain', plural: 'computedomains', columns: [{ name: 'Status', type: 'string', jsonPath: '.status.status' }] })],
  },
  'prometheus-operator': {
    description: 'Prometheus Operator: ServiceMonitor',
    crds: () => [minimalCRD({ group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor', plural: 'servicemonitors', short: ['smon'] })],
  },
  kserve: {
    description: 'KServe: InferenceService, with a simulated KServe controller that makes the predictor Deployment and Service and reports readiness',
    crds: () => [inferenceServiceCRD()],
    simulate: startKServeSimulation,
  },
};

export const DEFAULT_ADDONS = Object.keys(ADDONS);

/** Installs the named add-ons' CRDs (idempotent: an existing CRD is left as it is). */
export function installAddons(cp: ControlPlane, names: readonly string[] = DEFAULT_ADDONS): void {
  const crdType = cp.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  for (const name of names) {
    const addon = ADDONS[name];
    if (!addon) throw new Error(`unknown add-on "${name}" (known: ${Object.keys(ADDONS).join(', ')})`);
    for (const crd of addon.crds()) {
      if (!cp.store.get('apiextensions.k8s.io/customresourcedefinitions', undefined, crd.metadata.name)) cp.objects.create(crdType, undefined, crd, { fieldManager: 'nimop' });
    }
  }
}

/** Starts the simulated controllers of the named add-ons (those that have one); `stop` ends them all. */
export function startAddonSimulations(cp: ControlPlane, names: readonly string[] = DEFAULT_ADDONS): RunningAddon {
  const running = names.flatMap((n) => {
    const simulate = ADDONS[n]?.simulate;
    return simulate ? [simulate(cp)] : [];
  });
  return {
    stop: () => running.forEach((r) => r.stop()),
    idle: async () => {
      await Promise.all(running.map((r) => r.idle()));
    },
  };
}
