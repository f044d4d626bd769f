/** NIMCache: model files downloaded once onto a volume, for any number of NIMServices. */
import { bool, int64, list, obj, opt, quantity, rule, str, strList, strMap, type Static } from '../schema.js';
import { Conditions, ContainerSpec, EnvList, NIMProfile, PVCSpec, ProxySpec, Tolerations } from './common.js';

const HF_LIKE_RULE = rule(
  '(has(self.modelName) ? 1 : 0) + (has(self.datasetName) ? 1 : 0) == 1',
  'Exactly one of modelName or datasetName must be defined',
);

const hfLike = (what: string, endpoint: ReturnType<typeof str>, namespace: ReturnType<typeof str>) =>
  obj(
    {
      endpoint,
      namespace,
      modelName: opt(str('Model to download; set this or datasetName.')),
      datasetName: opt(str('Dataset to download; set this or modelName.')),
      authSecret: str('Secret with HF_TOKEN, the access token.', { minLength: 1 }),
      modelPuller: str('Image that runs the download (it carries the huggingface-cli tool).', { minLength: 1 }),
      pullSecret: str('Image pull secret for modelPuller.', { minLength: 1 }),
      revision: opt(str('Revision to download: a commit, branch or tag.', { minLength: 1 })),
    },
    what,
    { rules: [HF_LIKE_RULE] },
  );

const NGCSource = () =>
  obj(
    {
      authSecret: str('Secret with NGC_API_KEY, used to download from NGC.'),
      modelPuller: str('NIM image that lists and downloads the model profiles. Cannot be changed: create a new NIMCache instead.', {
        'x-kubernetes-validations': [
          rule(
            'self == oldSelf',
            'modelPuller is an immutable field. Please create a new NIMCache resource instead when you want to change this container.',
          ),
        ],
      }),
      pullSecret: opt(str('Image pull secret for modelPuller.')),
      modelEndpoint: opt(str('Model repository for a multi-model ("universal") NIM, e.g. ngc://org/team/model:version.')),
      model: opt(
        obj(
          {
            profiles: opt(strList('Profile ids to download, or the single value "all".')),
            precision: opt(str('Precision the profiles must have, e.g. fp8, bf16.')),
            engine: opt(str('Engine the profiles must use, e.g. tensorrt_llm, vllm.')),
            tensorParallelism: opt(str('Tensor-parallel size (GPU count) the profiles must have.')),
            qosProfile: opt(str('Optimization target of the profiles: latency or throughput.')),
            gpus: opt(
              list(
                obj(
                  {
                    product: opt(str('GPU product, e.g. h100, a100, l40s.')),
                    ids: opt(strList('PCI device ids of the GPU.')),
                  },
                  'A GPU the profiles must be built for.',
                ),
                'GPUs the profiles must be built for; the cluster\'s own GPUs when empty.',
              ),
            ),
            lora: opt(bool('Choose profiles that support LoRA adapters.')),
            buildable: opt(bool('Choose generic profiles from which an engine can be built (see NIMBuild).')),
          },
          'Which profiles of the model to download, when not all of them.',
        ),
      ),
    },
    'Download from NVIDIA NGC with a NIM image.',
    { rules: [rule("!(has(self.model) && has(self.modelEndpoint))", "Only one of 'model' or 'modelEndpoint' can be specified")] },
  );

export const NIMCacheSpec = () =>
  obj(
    {
      source: obj(
        {
          ngc: opt(NGCSource()),
          hf: opt(
            hfLike(
              'Download from a Hugging Face Hub.',
              str('URL of the hub, e.g. https://huggingface.co.', { pattern: '^https?://.*$' }),
              str('Organisation or user on the hub that owns the model.', { minLength: 1 }),
            ),
          ),
          dataStore: opt(
            hfLike(
              'Download from a NeMo Data Store (a Hugging Face-compatible API).',
              str('URL of the data store\'s Hugging Face API, ending in /v1/hf.', { pattern: '^https?://.*/v1/hf/?$' }),
              str('Namespace in the data store.', { default: 'default' }),
            ),
          ),
        },
        'Where the model comes from: exactly one of ngc, hf and dataStore.',
        {
          rules: [
            rule(
              '(has(self.ngc) ? 1 : 0) + (has(self.dataStore) ? 1 : 0) + (has(self.hf) ? 1 : 0) == 1',
              'Exactly one of ngc, dataStore, or hf must be defined',
            ),
          ],
        },
      ),
      storage: obj(
        {
          pvc: opt(PVCSpec()),
          hostPath: opt(str('Deprecated and ignored: use pvc.')),
        },
        'The volume the model is downloaded to.',
      ),
      resources: opt(
        obj(
          {
            cpu: opt(quantity('CPU of the download containers (request and limit).')),
            memory: opt(quantity('Memory of the download containers (request and limit).')),
          },
          'Resources of the download containers.',
        ),
      ),
      tolerations: opt(Tolerations('Taints the download pods tolerate.')),
      nodeSelector: opt(strMap('Node labels the download pods must match; nodes with an NVIDIA GPU when empty.')),
      userID: opt(int64('User id the download runs as (default 1000).')),
      groupID: opt(int64('Group id the download runs as (default 2000).')),
      certConfig: opt(
        obj(
          {
            name: str('Name of the ConfigMap with the certificates.'),
            mountPath: str('Where the certificates are mounted.'),
          },
          'Deprecated: use proxy.certConfigMap. A NIMCache that sets it is not served.',
        ),
      ),
      env: opt(EnvList('Extra environment variables of the download container.')),
      runtimeClassName: opt(str('RuntimeClass of the download pods.')),
      proxy: opt(ProxySpec()),
      initContainers: opt(list(ContainerSpec('An init container.'), 'Containers run before the download starts.')),
    },
    'The model to download and the volume to keep it on.',
    { required: ['source', 'storage'] },
  );

export const NIMCacheStatus = () =>
  obj(
    {
      state: opt(str('Overall state: NotReady, PVC-Created, Started, Pending, InProgress, Ready or Failed.')),
      type: opt(str('How the image downloads: empty (manifest-based), model-free or native.')),
      pvc: opt(str('Name of the PersistentVolumeClaim that holds the model, once downloaded.')),
      profiles: opt(list(NIMProfile('A downloaded profile.'), 'Profiles on the volume.')),
      conditions: opt(Conditions()),
    },
    'What the operator observed.',
  );

export type NIMCacheSpec = Static<ReturnType<typeof NIMCacheSpec>>;
export type NIMCacheStatus = Static<ReturnType<typeof NIMCacheStatus>>;
