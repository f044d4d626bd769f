/** The four kinds of apps.nvidia.com/v1alpha1: names, printer columns, schemas and object types. */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { obj, opt, str, toPlain, type JSONSchemaProps, type TSchema, type Wire } from '../schema.js';
import { NIMBuildSpec, NIMBuildStatus, type NIMBuildSpec as BuildSpec, type NIMBuildStatus as BuildStatus } from './nimbuild.js';
import { NIMCacheSpec, NIMCacheStatus, type NIMCacheSpec as CacheSpec, type NIMCacheStatus as CacheStatus } from './nimcache.js';
import {
  NIMPipelineSpec,
  NIMPipelineStatus,
  type NIMPipelineSpec as PipelineSpec,
  type NIMPipelineStatus as PipelineStatus,
} from './nimpipeline.js';
import {
  NIMServiceStatus,
  nimServiceSpecSchema,
  type NIMServiceSpec as ServiceSpec,
  type NIMServiceStatus as ServiceStatus,
} from './nimservice.js';

export const GROUP = 'apps.nvidia.com';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames?: string[];
  categories?: string[];
  description: string;
  columns: PrinterColumn[];
  spec: () => TSchema;
  status: () => TSchema;
}

const statusColumn: PrinterColumn = { name: 'Status', type: 'string', jsonPath: '.status.state' };
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', format: 'date-time', jsonPath: '.metadata.creationTimestamp' };

export const KINDS: readonly KindDefinition[] = [
  {
    kind: 'NIMCache',
    plural: 'nimcaches',
    singular: 'nimcache',
    listKind: 'NIMCacheList',
    description: 'A model downloaded once onto a volume, with the engine profiles that fit the cluster\'s GPUs.',
    columns: [statusColumn, { name: 'PVC', type: 'string', jsonPath: '.status.pvc' }, ageColumn],
    spec: NIMCacheSpec,
    status: NIMCacheStatus,
  },
  {
    kind: 'NIMService',
    plural: 'nimservices',
    singular: 'nimservice',
    listKind: 'NIMServiceList',
    description: 'A running inference endpoint for one model.',
    columns: [statusColumn, ageColumn],
    spec: () => nimServiceSpecSchema,
    status: NIMServiceStatus,
  },
  {
    kind: 'NIMPipeline',
    plural: 'nimpipelines',
    singular: 'nimpipeline',
    listKind: 'NIMPipelineList',
    description: 'Several NIMServices managed as one unit.',
    columns: [statusColumn, ageColumn],
    spec: NIMPipelineSpec,
    status: NIMPipelineStatus,
  },
  {
    kind: 'NIMBuild',
    plural: 'nimbuilds',
    singular: 'nimbuild',
    listKind: 'NIMBuildList',
    description: 'A TensorRT-LLM engine built for the cluster\'s GPUs from a cached buildable profile.',
    columns: [statusColumn, ageColumn],
    spec: NIMBuildSpec,
    status: NIMBuildStatus,
  },
];

export function kindDefinition(kind: string): KindDefinition | undefined {
  return KINDS.find((k) => k.kind === kind);
}

const schemaCache = new Map<string, JSONSchemaProps>();

/** The CRD's openAPIV3Schema for a kind (plain JSON, properties sorted). */
export function openAPISchema(def: KindDefinition): JSONSchemaProps {
  let s = schemaCache.get(def.kind);
  if (!s) {
    s = toPlain(
      obj(
        {
          apiVersion: opt(
            str('Versioned schema of this object: apps.nvidia.com/v1alpha1. See https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources'),
          ),
          kind: opt(str(`The REST resource this object represents: ${def.kind}. See https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds`)),
          metadata: opt(obj({}, 'Standard object metadata.')),
          spec: opt(def.spec()),
          status: opt(def.status()),
        },
        def.description,
      ),
    );
    // metadata is validated by the API server itself; the CRD declares it as an object only.
    s.properties!.metadata = { type: 'object' };
    schemaCache.set(def.kind, s);
  }
  return structuredClone(s);
}

type ObjectMeta = Wire<V1ObjectMeta>;

interface Resource<K extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type NIMCache = Resource<'NIMCache', CacheSpec, CacheStatus>;
export type NIMService = Resource<'NIMService', ServiceSpec, ServiceStatus>;
export type NIMPipeline = Resource<'NIMPipeline', PipelineSpec, PipelineStatus>;
export type NIMBuild = Resource<'NIMBuild', BuildSpec, BuildStatus>;
