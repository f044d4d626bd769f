/** The operator's controllers, registered on a manager. */
import type { Manager } from '../runtime/manager.js';
import type { ImageInspector } from '../nim/inspect.js';
import { nimCacheController } from './nimcache/index.js';
import { setupNIMBuildController } from './nimbuild/index.js';
import { setupNIMPipelineController } from './nimpipeline/index.js';
import { setupNIMServiceController } from './nimservice/index.js';
import { controllerContext, type ControllerContext, type ControllerSetup, type ServiceResolver } from './context.js';

export type { ControllerContext, ServiceResolver } from './context.js';

/** Name → setup of every controller; filled in as controllers land. */
export const CONTROLLERS: Record<string, ControllerSetup> = {
  nimcache: nimCacheController({}),
  nimservice: setupNIMServiceController,
  nimpipeline: setupNIMPipelineController,
  nimbuild: setupNIMBuildController,
};

export interface OperatorOptions {
  operatorVersion?: string;
  resolveService?: ServiceResolver;
  pollMs?: number;
  /** Controllers to run (names of CONTROLLERS); all when unset. */
  only?: string[];
  /** These setups instead of CONTROLLERS (tests of one controller). */
  setups?: ControllerSetup[];
  /**
   * How NIMCache learns an image's config labels (the native download protocol): a registry client
   * in a cluster, the image catalogue in `nimop dev`. Without one every image is the legacy layout.
   */
  inspector?: ImageInspector;
}

/** Builds every controller on `manager`; returns the context (its optional-API checker must be started). */
export function setupControllers(manager: Manager, opts: OperatorOptions = {}): ControllerContext {
  const ctx = controllerContext(manager, opts);
  if (opts.setups) {
    for (const setup of opts.setups) manager.add(setup(ctx));
    return ctx;
  }
  const setups: Record<string, ControllerSetup> = { ...CONTROLLERS, ...(opts.inspector ? { nimcache: nimCacheController({ inspector: opts.inspector }) } : {}) };
  for (const [name, setup] of Object.entries(setups)) {
    if (opts.only && !opts.only.includes(name)) continue;
    manager.add(setup(ctx));
  }
  return ctx;
}
