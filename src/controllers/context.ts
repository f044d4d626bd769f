/**
 * What every controller is given: the manager (client, informers, queues, applier, logger,
 * metrics), the optional APIs found through discovery, an event recorder, and how to reach a
 * Service's port to ask a model whether it answers.
 */
import type { ResourceRef } from '../runtime/client/client.js';
import type { Controller } from '../runtime/controller.js';
import { EventRecorder } from '../runtime/events.js';
import type { Manager } from '../runtime/manager.js';
import { OptionalApis } from '../runtime/optional-apis.js';
import { COMPUTEDOMAIN, GRPCROUTE, HTTPROUTE, INFERENCEPOOL, INFERENCESERVICE, LEADERWORKERSET, RESOURCECLAIM, RESOURCECLAIMTEMPLATE, SERVICEMONITOR } from './refs.js';

export interface Address {
  host: string;
  port: number;
}

/**
 * Where a Service's port answers. In a cluster: the Service's DNS name (the operator runs inside
 * it). In `nimop dev`: the simulation's resolver, which hands out the loopback address of a ready
 * pod's endpoint. `undefined`: nothing answers there now.
 */
export type ServiceResolver = (namespace: string, service: string, port: number | string) => Promise<Address | undefined> | Address | undefined;

/** DNS resolution, for the operator running in the cluster it manages. */
export const clusterDNSResolver: ServiceResolver = (namespace, service, port) =>
  typeof port === 'number' ? { host: `${service}.${namespace}.svc`, port } : undefined;

/** Optional APIs the controllers use when present. */
export const OPTIONAL_REFS: ResourceRef[] = [HTTPROUTE, GRPCROUTE, SERVICEMONITOR, LEADERWORKERSET, RESOURCECLAIM, RESOURCECLAIMTEMPLATE, COMPUTEDOMAIN, INFERENCEPOOL, INFERENCESERVICE];

export interface ControllerContext {
  manager: Manager;
  /** The version stamped into the `app.kubernetes.io/operator-version` label ('' as upstream when unset). */
  operatorVersion: string;
  resolveService: ServiceResolver;
  apis: OptionalApis;
  /** An event recorder reporting as `component` (e.g. `nimservice-controller`). */
  recorder(component: string): EventRecorder;
  /** Polling period for what has no watch (a model that does not answer yet). */
  pollMs: number;
  /** The API server's version (`gitVersion`), read once. */
  serverVersion(): Promise<string | undefined>;
}

export function controllerContext(manager: Manager, opts: { operatorVersion?: string; resolveService?: ServiceResolver; pollMs?: number } = {}): ControllerContext {
  const recorders = new Map<string, EventRecorder>();
  let version: Promise<string | undefined> | undefined;
  return {
    manager,
    operatorVersion: opts.operatorVersion ?? process.env.OPERATOR_VERSION ?? '',
    resolveService: opts.resolveService ?? clusterDNSResolver,
    apis: new OptionalApis(manager.client, OPTIONAL_REFS),
    recorder(component) {
      let r = recorders.get(component);
      if (!r) recorders.set(component, (r = new EventRecorder(manager.client, component)));
      return r;
    },
    pollMs: opts.pollMs ?? 5_000,
    serverVersion() {
      version ??= manager.client.rest.request<{ gitVersion?: string }>({ method: 'GET', path: '/version' }).then(
        (v) => v.gitVersion,
        () => ((version = undefined), undefined),
      );
      return version;
    },
  };
}

/** A controller module: builds its controller on the context (informers, queue) and adds it to the manager. */
export type ControllerSetup = (ctx: ControllerContext) => Controller;
