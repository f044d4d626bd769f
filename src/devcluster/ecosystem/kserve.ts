/**
 * The `kserve` add-on of `nimop dev`: a minimal InferenceService CRD of our own
 * (serving.kserve.io/v1beta1, spec and status preserved) and a simulated KServe controller
 * (kserve-sim.ts) that turns each InferenceService into the predictor Deployment and Service KServe
 * would make, and reports readiness, URL and address the way KServe does. Started, the simulation
 * also makes KServe's ConfigMap `kserve/inferenceservice-config` (default mode `RawDeployment`).
 */
import type { Obj } from '../store.js';
import { minimalCRD } from './index.js';

export const KSERVE_GROUP = 'serving.kserve.io';
/** The store key of InferenceServices (`group/plural`). */
export const ISVC = `${KSERVE_GROUP}/inferenceservices`;

export function inferenceServiceCRD(): Obj {
  return minimalCRD({
    group: KSERVE_GROUP,
    version: 'v1beta1',
    kind: 'InferenceService',
    plural: 'inferenceservices',
    short: ['isvc'],
    columns: [
      { name: 'URL', type: 'string', jsonPath: '.status.url' },
      { name: 'Mode', type: 'string', jsonPath: '.status.deploymentMode' },
    ],
  });
}
