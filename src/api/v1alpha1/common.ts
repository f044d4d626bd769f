/**
 * Sub-types shared by several kinds of apps.nvidia.com/v1alpha1.
 * Field names, types and constraints follow the NIM Operator API; the wording is ours.
 */
import type * as k from '@kubernetes/client-node';
import {
  bool,
  enumOf,
  int64,
  k8s,
  k8sList,
  list,
  obj,
  opt,
  str,
  strList,
  strMap,
  type Static,
} from '../schema.js';

export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';

export const Image = () =>
  obj(
    {
      repository: str('Image repository, for example nvcr.io/nim/meta/llama-3.1-8b-instruct.'),
      tag: str('Image tag. Pin an exact version: a floating tag such as "latest" changes what runs on every pull.'),
      pullPolicy: opt(str('When the kubelet pulls the image: Always, IfNotPresent or Never.')),
      pullSecrets: opt(strList('Names of Secrets in the same namespace used to pull the image.')),
    },
    'The container image, written as <repository>:<tag>.',
    { required: ['repository', 'tag'] },
  );
export type Image = Static<ReturnType<typeof Image>>;

export const EnvList = (description: string) => k8sList<k.V1EnvVar>('V1EnvVar', description);
export const Tolerations = (description: string) => k8sList<k.V1Toleration>('V1Toleration', description);
export const Resources = (description: string) => k8s<k.V1ResourceRequirements>('V1ResourceRequirements', description);

export const ContainerSpec = (description: string) =>
  obj(
    {
      name: str('Name of the container, unique within the pod.'),
      image: Image(),
      command: opt(strList('Entrypoint of the container; the image\'s ENTRYPOINT when empty.')),
      args: opt(strList('Arguments to the entrypoint; the image\'s CMD when empty.')),
      env: opt(EnvList('Environment variables of the container.')),
      workingDir: opt(str('Working directory of the container; the image\'s default when empty.')),
    },
    description,
  );
export type ContainerSpec = Static<ReturnType<typeof ContainerSpec>>;

export const ProxySpec = () =>
  obj(
    {
      httpProxy: opt(str('URL of the HTTP proxy, passed to containers as HTTP_PROXY.')),
      httpsProxy: opt(str('URL of the HTTPS proxy, passed to containers as HTTPS_PROXY.')),
      noProxy: opt(str('Comma-separated hosts and domains reached without the proxy (NO_PROXY).')),
      certConfigMap: opt(
        str('Name of a ConfigMap whose *.crt and *.pem entries are extra CA certificates to trust (for a TLS-inspecting proxy).'),
      ),
    },
    'Outbound proxy and extra trusted certificate authorities.',
  );

export const PVCSpec = () =>
  obj(
    {
      create: opt(bool('Create the PersistentVolumeClaim. When false, an existing claim named by name is used.')),
      name: opt(str('Name of the claim. Required when create is false; defaults to a derived name when creating.')),
      storageClass: opt(str('StorageClass of a claim to create; the cluster default when empty.')),
      size: opt(str('Requested size of a claim to create, as a quantity such as "50Gi".')),
      volumeAccessMode: opt(str('Access mode of a claim to create: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.')),
      subPath: opt(str('Directory inside the volume that holds the model store.')),
      annotations: opt(strMap('Annotations put on a claim the operator creates.')),
    },
    'A PersistentVolumeClaim that holds model files: created by the operator or an existing one.',
  );

export const Condition = () =>
  obj(
    {
      type: str('Kind of condition, in CamelCase or as domain/Name.', {
        maxLength: 316,
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      }),
      status: enumOf(['True', 'False', 'Unknown'] as const, 'Whether the condition holds: True, False or Unknown.'),
      observedGeneration: opt(
        int64('The metadata.generation of the object that this condition was computed from.', { minimum: 0 }),
      ),
      lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
      reason: str('A one-word, CamelCase cause of the last transition, for programs.', {
        minLength: 1,
        maxLength: 1024,
        pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      }),
      message: str('What happened, and what to do about it, for people.', { maxLength: 32768 }),
    },
    'One observation about the object.',
  );
export type Condition = Static<ReturnType<typeof Condition>>;

export const Conditions = (description = 'Observations of the object\'s state, one per type.') =>
  list(Condition(), description);

export const NIMProfile = (description: string) =>
  obj(
    {
      name: opt(str('Profile id.')),
      model: opt(str('Model the profile belongs to.')),
      release: opt(str('NIM release the profile was published with.')),
      config: opt(strMap('Tags of the profile (engine, precision, tp, gpu …).')),
    },
    description,
  );
export type NIMProfile = Static<ReturnType<typeof NIMProfile>>;

export * from './expose.js';
export * from './scaling.js';
export * from './dra.js';
