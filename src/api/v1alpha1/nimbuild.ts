/** NIMBuild: compile a TensorRT-LLM engine for the cluster's GPUs from a buildable cached profile. */
import { obj, opt, quantityMap, rule, str, strMap, type Static } from '../schema.js';
import { Conditions, EnvList, Image, NIMProfile, Tolerations } from './common.js';

export const NIMBuildSpec = () =>
  obj(
    {
      nimCache: obj(
        {
          name: str('Name of a NIMCache in the same namespace that holds a buildable profile.'),
          profile: opt(str('Buildable profile to build from; the cache must hold exactly one when empty.')),
        },
        'The cache that provides the weights and receives the built engine.',
        { required: ['name'] },
      ),
      modelName: opt(str('Name of the built engine; the NIMBuild name when empty.')),
      resources: opt(
        obj(
          {
            limits: opt(quantityMap('Most resources the build may use; the GPU count follows the profile when unset.')),
            requests: opt(quantityMap('Resources the build needs to be scheduled.')),
          },
          'Resources of the build pod.',
        ),
      ),
      tolerations: opt(Tolerations('Taints the build pod tolerates.')),
      nodeSelector: opt(strMap('Node labels the build pod must match.')),
      env: opt(EnvList('Extra environment variables of the build container.')),
      labels: opt(strMap('Labels for the build pod.')),
      annotations: opt(strMap('Annotations for the build pod.')),
      image: Image(),
    },
    'What to build, from which cache, with which image. Cannot be changed: create a new NIMBuild instead.',
    { required: ['image'], rules: [rule('self == oldSelf', 'spec is immutable')] },
  );

export const NIMBuildStatus = () =>
  obj(
    {
      state: opt(str('Overall state: Pending, InProgress, Ready or Failed.')),
      inputProfile: opt(NIMProfile('The profile the engine was built from.')),
      outputProfile: opt(NIMProfile('The profile of the built engine, added to the cache.')),
      conditions: opt(Conditions()),
    },
    'What the operator observed.',
  );

export type NIMBuildSpec = Static<ReturnType<typeof NIMBuildSpec>>;
export type NIMBuildStatus = Static<ReturnType<typeof NIMBuildStatus>>;

