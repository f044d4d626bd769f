/**
 * Upstream's validating-webhook rules for NIMService (inventory §3.2, rules S1–S20 and U1–U3), as
 * pure functions. Paths start with `nimservice.spec` except where upstream's start with `spec`.
 */
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { fieldError, OMIT_VALUE, type FieldError } from '../../api/validation/index.js';
import { checkPVC } from './nimcache.js';
import { isZero, parseQuantity, semanticEqual } from './util.js';

export type ServiceSpec = NIMService['spec'];
type DRAResource = NonNullable<ServiceSpec['draResources']>[number];
type Device = NonNullable<DRAResource['claimCreationSpec']>['devices'][number];

const SPEC = 'nimservice.spec';

/** Facts the NIMService rules read from the cluster; offline they are unknown and the rules that need them are skipped. */
export interface ServiceFacts {
  /** The API server's version (e.g. "v1.33.2"), for the DRA rule S14. */
  serverVersion?: string;
  /** KServe's deployment mode as detected in the cluster (inventory 2.2.14); by default read from the annotation, else Standard. */
  kserveDeploymentMode?: string;
  /** KServe's default mode from its `inferenceservice-config` ConfigMap, used when the annotation asks for none. */
  kserveDefaultDeploymentMode?: string;
}

export interface RuleResult {
  errors: FieldError[];
  warnings: string[];
}

export const AUTH_SECRET_WARNING =
  'nimservice.spec.authSecret is empty: NGC_API_KEY will not be injected. Omit this only for air-gapped deployments with a pre-populated local model cache';
export const DEPRECATED_INGRESS_WARNING = '.spec.expose.ingress is deprecated, use .spec.expose.router instead.';
export const LOADBALANCER_WARNING =
  'spec.expose.service.type is set to LoadBalancer, but spec.expose.router.gateway or spec.expose.router.ingress is also set. This creates two entry points for the service. Consider only using one of them.';

const KSERVE_MODES = ['Standard', 'Knative', 'ModelMesh', 'RawDeployment', 'Serverless'];
const ATTRIBUTE_OPS = ['Equal', 'NotEqual', 'GreaterThan', 'GreaterThanOrEqual', 'LessThan', 'LessThanOrEqual'];
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function storageSources(storage: ServiceSpec['storage']): string[] {
  const s = storage ?? {};
  const out: string[] = [];
  if (s.nimCache && (s.nimCache.name || s.nimCache.profile)) out.push('nimCache');
  if (s.pvc && !isZero(s.pvc)) out.push('pvc');
  if (s.emptyDir !== undefined && s.emptyDir !== null) out.push('emptyDir');
  if (s.hostPath) out.push('hostPath');
  return out;
}

/**
 * The KServe deployment mode (inventory 2.2.14): the detected mode if known, else the annotation (an
 * empty one asks for nothing), else KServe's default from its ConfigMap when known, else Standard.
 */
export function kserveMode(spec: ServiceSpec, facts: ServiceFacts): { mode?: string; error?: string } {
  if (facts.kserveDeploymentMode) return { mode: facts.kserveDeploymentMode };
  const annotated = spec.annotations?.['serving.kserve.io/deploymentMode'];
  if (annotated !== undefined && annotated !== '') {
    if (!KSERVE_MODES.includes(annotated)) return { error: `deployment mode annotation found but value is invalid: ${annotated}` };
    return { mode: annotated };
  }
  if (facts.kserveDefaultDeploymentMode && KSERVE_MODES.includes(facts.kserveDefaultDeploymentMode)) return { mode: facts.kserveDefaultDeploymentMode };
  return { mode: 'Standard' };
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

function normalisedKey(key: string, driver: string | undefined): string {
  return key.includes('/') ? key : `${driver ?? ''}/${key}`;
}

function checkDevice(device: Device, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!device.name) errors.push(fieldError('FieldValueRequired', `${path}.name`, OMIT_VALUE, 'is required'));
  if (!(device.count > 0)) errors.push(fieldError('FieldValueInvalid', `${path}.count`, device.count ?? 0, 'must be > 0'));
  if (!device.deviceClassName) errors.push(fieldError('FieldValueRequired', `${path}.deviceClassName`, OMIT_VALUE, 'is required'));
  if (!device.driverName) errors.push(fieldError('FieldValueRequired', `${path}.driverName`, OMIT_VALUE, 'is required'));
  const seen = new Set<string>();
  (device.attributeSelectors ?? []).forEach((sel, k) => {
    const p = `${path}.attributeSelectors[${k}]`;
    const key = normalisedKey(sel.key, device.driverName);
    if (seen.has(key)) errors.push(fieldError('FieldValueDuplicate', p, key));
    seen.add(key);
    if (!sel.op) errors.push(fieldError('FieldValueRequired', `${p}.op`, OMIT_VALUE, 'is required'));
    else if (!ATTRIBUTE_OPS.includes(sel.op)) {
      errors.push(fieldError('FieldValueInvalid', `${p}.op`, sel.op, `must be one of [${ATTRIBUTE_OPS.join(' ')}]`));
    }
    const v = sel.value ?? {};
    const vp = `${p}.value`;
    const count = (['boolValue', 'intValue', 'stringValue', 'versionValue'] as const).filter((f) => v[f] !== undefined).length;
    const which = `must specify exactly one of ${vp}.boolValue, ${vp}.intValue, ${vp}.stringValue, or ${vp}.versionValue`;
    if (count === 0) errors.push(fieldError('FieldValueRequired', vp, OMIT_VALUE, which));
    else if (count > 1) errors.push(fieldError('FieldValueInvalid', vp, 'multiple attribute values defined', which));
    if (v.versionValue !== undefined && !SEMVER.test(v.versionValue)) {
      errors.push(fieldError('FieldValueInvalid', vp, v.versionValue, `must be a valid semantic version: invalid semantic version "${v.versionValue}"`));
    }
  });
  (device.capacitySelectors ?? []).forEach((sel, k) => {
    const p = `${path}.capacitySelectors[${k}]`;
    const key = normalisedKey(sel.key, device.driverName);
    if (seen.has(key)) errors.push(fieldError('FieldValueDuplicate', p, key));
    seen.add(key);
    if (!ATTRIBUTE_OPS.includes(sel.op)) {
      errors.push(fieldError('FieldValueInvalid', `${p}.op`, sel.op ?? '', `must be one of [${ATTRIBUTE_OPS.join(' ')}]`));
    }
    if (sel.value === undefined || sel.value === '') errors.push(fieldError('FieldValueRequired', `${p}.value`, OMIT_VALUE, 'is required'));
  });
  return errors;
}

function checkDRA(spec: ServiceSpec, facts: ServiceFacts): FieldError[] {
  const errors: FieldError[] = [];
  const dra = spec.draResources ?? [];
  if (dra.length === 0) return errors;
  const path = `${SPEC}.draResources`;
  // S14: needs the cluster's version; offline (unknown) it is not checked.
  if (facts.serverVersion !== undefined && !versionAtLeast(facts.serverVersion, 1, 34)) {
    errors.push(
      fieldError('FieldValueForbidden', path, OMIT_VALUE, "is not supported by NIM-Operator on this cluster, please upgrade to k8s version 'v1.34.0' or higher"),
    );
  }
  const names = new Set<string>();
  dra.forEach((r, i) => {
    const p = `${path}[${i}]`;
    const sources = [r.resourceClaimName, r.resourceClaimTemplateName].filter((v) => !!v).length + (r.claimCreationSpec ? 1 : 0);
    const which = `${SPEC}.resourceClaimName, ${SPEC}.resourceClaimTemplateName, or ${SPEC}.claimCreationSpec`;
    if (sources === 0) errors.push(fieldError('FieldValueRequired', p, OMIT_VALUE, `one of ${which} must be provided`));
    else if (sources > 1) errors.push(fieldError('FieldValueInvalid', p, 'multiple dra resource sources defined', `must specify exactly one of ${which}`));
    if (r.resourceClaimName) {
      const cp = `${p}.resourceClaimName`;
      const instead = `use ${p}.resourceClaimTemplateName instead`;
      if ((spec.replicas ?? 0) > 1) errors.push(fieldError('FieldValueForbidden', cp, OMIT_VALUE, `must not be set when ${SPEC}.replicas > 1, ${instead}`));
      if (spec.scale?.enabled === true) {
        errors.push(fieldError('FieldValueForbidden', cp, OMIT_VALUE, `must not be set when ${SPEC}.scale.enabled is true, ${instead}`));
      }
      if (names.has(r.resourceClaimName)) errors.push(fieldError('FieldValueDuplicate', cp, r.resourceClaimName));
      names.add(r.resourceClaimName);
    }
    if (r.claimCreationSpec) {
      const cp = `${p}.claimCreationSpec`;
      const devices = r.claimCreationSpec.devices ?? [];
      if (devices.length === 0) errors.push(fieldError('FieldValueRequired', `${cp}.devices`, OMIT_VALUE, 'must be non-empty'));
      devices.forEach((d, j) => errors.push(...checkDevice(d, `${cp}.devices[${j}]`)));
    }
  });
  return errors;
}

function checkKServe(spec: ServiceSpec, facts: ServiceFacts): FieldError[] {
  const errors: FieldError[] = [];
  if (spec.inferencePlatform !== 'kserve') return errors;
  const { mode, error } = kserveMode(spec, facts);
  if (error !== undefined) {
    errors.push(fieldError('InternalError', SPEC, OMIT_VALUE, `failed to determine KServe deployment mode: ${error}`));
  } else if (mode === 'Knative' || mode === 'Serverless') {
    const knative = 'cannot be set when KServe runs in knative mode';
    if (spec.scale?.enabled === true) {
      errors.push(fieldError('FieldValueForbidden', `${SPEC}.scale.enabled`, OMIT_VALUE, `${SPEC}.scale (autoscaling) ${knative}`));
    }
    if (spec.expose?.ingress?.enabled === true) {
      errors.push(fieldError('FieldValueForbidden', `${SPEC}.expose.ingress.enabled`, OMIT_VALUE, `${SPEC}.expose.ingress ${knative}`));
    }
    // Upstream's paths for the router lack `expose` (inventory Appendix A14); kept as upstream prints them.
    if (spec.expose?.router?.ingress) {
      errors.push(fieldError('FieldValueForbidden', `${SPEC}.router.ingress`, OMIT_VALUE, `${SPEC}.router.ingress ${knative}`));
    }
    if (spec.expose?.router?.gateway) {
      errors.push(fieldError('FieldValueForbidden', `${SPEC}.router.gateway`, OMIT_VALUE, `${SPEC}.router.gateway ${knative}`));
    }
    if (spec.metrics?.enabled === true) {
      errors.push(fieldError('FieldValueForbidden', `${SPEC}.metrics.enabled`, OMIT_VALUE, `${SPEC}.metrics.serviceMonitor ${knative}`));
    }
  }
  if (spec.multiNode) {
    errors.push(fieldError('FieldValueForbidden', `${SPEC}.multiNode`, OMIT_VALUE, 'cannot be set when the inferencePlatform is KServe'));
  }
  return errors;
}

/** S1–S20: the checks run on create and on update. */
export function validateNIMServiceSpec(spec: ServiceSpec, facts: ServiceFacts = {}): RuleResult {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  // S1, S2 (upstream reports each twice, Appendix A14; we report once).
  if (!spec.image?.repository) errors.push(fieldError('FieldValueRequired', `${SPEC}.image.repository`, OMIT_VALUE, 'is required'));
  if (!spec.image?.tag) errors.push(fieldError('FieldValueRequired', `${SPEC}.image.tag`, OMIT_VALUE, 'is required'));
  // S3
  if (!spec.authSecret) warnings.push(AUTH_SECRET_WARNING);
  // S4
  const shm = spec.storage?.sharedMemorySizeLimit;
  if (shm !== undefined && !((parseQuantity(shm) ?? 0) > 0)) {
    errors.push(fieldError('FieldValueInvalid', `${SPEC}.storage.sharedMemorySizeLimit`, String(shm), 'must be > 0'));
  }
  // S5
  const all = `${SPEC}.storage.nimCache, ${SPEC}.storage.pvc, ${SPEC}.storage.emptyDir or ${SPEC}.storage.hostPath`;
  const sources = storageSources(spec.storage);
  if (sources.length === 0) errors.push(fieldError('FieldValueRequired', `${SPEC}.storage`, OMIT_VALUE, `one of ${all}, must be defined`));
  else if (sources.length > 1) {
    errors.push(fieldError('FieldValueInvalid', `${SPEC}.storage`, 'multiple storage sources defined', `only one of ${all} must be defined`));
  }
  // S6
  const cache = spec.storage?.nimCache;
  if (cache?.profile && !cache.name) {
    errors.push(fieldError('FieldValueRequired', `${SPEC}.storage.nimCache.name`, OMIT_VALUE, `is required when ${SPEC}.storage.nimCache is defined`));
  }
  // S7
  if (sources.includes('pvc') && spec.storage?.pvc) errors.push(...checkPVC(spec.storage.pvc, `${SPEC}.storage.pvc`));
  // S8, S9
  const router = spec.expose?.router;
  if ((router?.ingress || router?.gateway) && !router.hostDomainName) {
    errors.push(fieldError('FieldValueRequired', `${SPEC}.expose.router.hostDomainName`, OMIT_VALUE, 'is required'));
  }
  if (router?.ingress && router.gateway) {
    errors.push(fieldError('FieldValueForbidden', `${SPEC}.expose.router`, OMIT_VALUE, 'ingress and gateway cannot be specified together'));
  }
  // S10
  if (spec.metrics?.enabled === true && isZero(spec.metrics.serviceMonitor)) {
    errors.push(fieldError('FieldValueRequired', `${SPEC}.metrics.serviceMonitor`, OMIT_VALUE, `must be defined if ${SPEC}.metrics.enabled is true`));
  }
  // S11, S12
  if (spec.scale?.enabled === true) {
    if (isZero(spec.scale.hpa)) {
      errors.push(fieldError('FieldValueRequired', `${SPEC}.scale.hpa`, OMIT_VALUE, `must be defined if ${SPEC}.scale.enabled is true`));
    }
    if (spec.replicas !== undefined) {
      errors.push(
        fieldError('FieldValueForbidden', 'spec.replicas', OMIT_VALUE, 'cannot be set when autoscaling is enabled; configure min/max replicas in spec.scale.hpa instead'),
      );
    }
  }
  // S13
  if (spec.resources?.claims !== undefined) {
    errors.push(fieldError('FieldValueForbidden', `${SPEC}.resources.claims`, OMIT_VALUE, 'must be empty'));
  }
  // S14–S17
  errors.push(...checkDRA(spec, facts));
  // S18
  errors.push(...checkKServe(spec, facts));
  // S19
  if (spec.expose?.ingress?.enabled === true) {
    warnings.push(DEPRECATED_INGRESS_WARNING);
    if (router?.ingress) {
      errors.push(
        fieldError(
          'FieldValueForbidden',
          `${SPEC}.expose.ingress`,
          OMIT_VALUE,
          `${SPEC}.expose.ingress is deprecated. Omit the field if you use .spec.expose.router instead`,
        ),
      );
    }
  }
  // S20
  if (spec.expose?.service?.type === 'LoadBalancer' && (router?.gateway || router?.ingress)) warnings.push(LOADBALANCER_WARNING);
  if (router?.gateway?.grpcRoutesEnabled === true && !spec.expose?.service?.grpcPort) {
    errors.push(
      fieldError('FieldValueRequired', `${SPEC}.expose.service.grpcPort`, OMIT_VALUE, 'must be set when .spec.expose.router.gateway.grpcRoutesEnabled is true'),
    );
  }
  return { errors, warnings };
}

/** U1–U3: what may not change on update. */
export function validateNIMServiceUpdate(spec: ServiceSpec, oldSpec: ServiceSpec): FieldError[] {
  const errors: FieldError[] = [];
  if (!semanticEqual(spec.multiNode, oldSpec.multiNode)) {
    errors.push(fieldError('FieldValueForbidden', 'spec.multiNode', OMIT_VALUE, 'is immutable once the resource is created'));
  }
  if (oldSpec.storage?.pvc?.create === true && !semanticEqual(spec.storage?.pvc, oldSpec.storage.pvc)) {
    errors.push(fieldError('FieldValueForbidden', 'spec.storage.pvc', OMIT_VALUE, 'is immutable once it is created with spec.storage.pvc.create = true'));
  }
  if ((oldSpec.draResources ?? []).length > 0 && !semanticEqual(spec.draResources, oldSpec.draResources)) {
    errors.push(fieldError('FieldValueForbidden', 'spec.draResources', OMIT_VALUE, 'is immutable'));
  }
  return errors;
}

export function nimServiceRules(obj: NIMService, old?: NIMService, facts: ServiceFacts = {}): RuleResult {
  const spec = obj.spec ?? ({} as ServiceSpec);
  const result = validateNIMServiceSpec(spec, facts);
  if (old) result.errors.push(...validateNIMServiceUpdate(spec, old.spec ?? ({} as ServiceSpec)));
  return result;
}
