/** A small NIMService for tests: Llama 3.1 8B on one GPU, emptyDir storage, the `ngc-api-secret`. */
export const LLAMA_IMAGE = { repository: 'nvcr.io/nim/meta/llama-3.1-8b-instruct', tag: '1.3.3' };

export function testNIMService(name: string, spec: Record<string, unknown> = {}, namespace = 'default'): Record<string, any> {
  return {
    apiVersion: 'apps.nvidia.com/v1alpha1',
    kind: 'NIMService',
    metadata: { name, namespace },
    spec: {
      image: LLAMA_IMAGE,
      authSecret: 'ngc-api-secret',
      storage: { emptyDir: { sizeLimit: '50Gi' } },
      resources: { limits: { 'nvidia.com/gpu': 1 } },
      expose: { service: { type: 'ClusterIP', port: 8000 } },
      ...spec,
    },
  };
}
