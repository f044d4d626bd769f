/**
 * Pure renders of what a NIMBuild creates (inventory §2.4): the engine build pod and the pod that
 * prints the local manifest of what was built. The same input always yields deep-equal output.
 */
export * from './common.js';
export { LOCAL_MANIFEST_SCRIPT, buildEnv, renderEngineBuildPod, renderLocalManifestPod } from './pod.js';
