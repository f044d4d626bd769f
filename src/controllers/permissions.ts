/**
 * What each controller declared it needs from the API (refs.ts `Permission`), in one list: the
 * operator's ClusterRole is generated from it (src/install/rbac.ts, `nimop install --write`).
 */
import type { Permission } from './refs.js';
import { NIMPIPELINE_PERMISSIONS } from './nimpipeline/index.js';
import { NIMCACHE_PERMISSIONS } from './nimcache/index.js';
import { NIMBUILD_PERMISSIONS } from './nimbuild/index.js';
import { NIMSERVICE_PERMISSIONS } from './nimservice/index.js';

/** The permissions of one controller, under its name (shown in the generated ClusterRole's comments). */
export interface PermissionSet {
  controller: string;
  permissions: readonly Permission[];
}

export const CONTROLLER_PERMISSIONS: readonly PermissionSet[] = [
  { controller: 'nimservice', permissions: NIMSERVICE_PERMISSIONS },
  { controller: 'nimpipeline', permissions: NIMPIPELINE_PERMISSIONS },
  { controller: 'nimcache', permissions: NIMCACHE_PERMISSIONS },
  { controller: 'nimbuild', permissions: NIMBUILD_PERMISSIONS },
  // A new controller adds its line here; `npm run manifests` regenerates the ClusterRole.
];
