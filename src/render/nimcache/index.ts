/**
 * Pure renders of everything a NIMCache creates (inventory §2.1): the namespace-shared
 * ServiceAccount, Role and RoleBinding, the PVC, the manifest probe pod, the manifest ConfigMap and
 * the caching Job. The same input always yields deep-equal output.
 */
export * from './common.js';
export { mergeEnv, proxyEnv, type EnvVar } from './env.js';
export { BACKOFF_LIMIT, CERT_CONFIG_DEPRECATED, NO_PROFILES, TTL_SECONDS_AFTER_FINISHED, jobProfiles, renderJob } from './job.js';
export { MANIFEST_PATHS, NO_MANIFEST, PROBE_SCRIPT, renderProbePod } from './probe.js';
export { renderRole, renderRoleBinding, renderServiceAccount, sharedRoleSCCs } from './rbac.js';
export { RenderError, renderManifestConfigMap, renderPVC } from './storage.js';
