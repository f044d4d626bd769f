/** The operator's controllers, registered on a manager. */
import type { Manager } from '../runtime/manager.js';
import { setupNIMPipelineController } from './nimpipeline/index.js';
import { setupNIMServiceController } from './nimservice/index.js';
import { controllerContext, type ControllerContext, type ControllerSetup, type ServiceResolver } from './context.js';

export type { ControllerContext, ServiceResolver } from './context.js';

/** Name → setup of every controller; filled in as controllers land. */
export const CONTROLLERS: Record<string, ControllerSetup> = {
  nimservice: setupNIMServiceController,
  nimpipeline: setupNIMPipelineController,
};

export interface OperatorOptions {
  operatorVersion?: string;
  resolveService?: ServiceResolver;
  pollMs?: number;
  /** Controllers to run (names of CONTROLLERS); all when unset. */
  only?: string[];
  /** These setups instead of CONTROLLERS (tests of one controller). */
  setups?: ControllerSetup[];
}

/** Builds every controller on `manager`; returns the context (its optional-API checker must be started). */
export function setupControllers(manager: Manager, opts: OperatorOptions = {}): ControllerContext {
  const ctx = controllerContext(manager, opts);
  if (opts.setups) {
    for (const setup of opts.setups) manager.add(setup(ctx));
    return ctx;
  }
  for (const [name, setup] of Object.entries(CONTROLLERS)) {
    if (opts.only && !opts.only.includes(name)) continue;
    manager.add(setup(ctx));
  }
  return ctx;
}
