/**
 * Image inspection (inventory §2.1.5): a NIM image that declares the native download protocol in
 * its OCI config labels caches by running its own entrypoint instead of `download-to-cache`.
 *
 * The operator asks an `ImageInspector` for an image's labels. In a cluster that is the registry
 * client of ./registry.ts; in `nimop dev` it is the simulation's image catalogue
 * (`inspectorFromLabels(sim.imageLabels)`); without one, every image is taken as legacy.
 */

/** A `.dockerconfigjson` document: credentials per registry host. */
export interface DockerConfig {
  auths?: Record<string, { username?: string; password?: string; auth?: string; identitytoken?: string }>;
}

export interface ImageInspector {
  /**
   * The OCI config labels of an image. For a multi-platform image, the labels every platform agrees
   * on; it throws when the platforms disagree on the download protocol label. `pullSecrets` are the
   * image pull secrets' documents, tried in order for the image's registry.
   */
  labels(image: string, pullSecrets: DockerConfig[]): Promise<Record<string, string>>;
}

export const MODEL_DOWNLOAD_PROTOCOL_LABEL = 'com.nvidia.nim.model_download_protocol';
export const NATIVE_V1 = 'native-v1';

export type DownloadProtocol = 'native' | 'legacy';

/** `native` when the labels say `native-v1`; anything else (or no label) is legacy. */
export function protocolOf(labels: Record<string, string>): DownloadProtocol {
  return labels[MODEL_DOWNLOAD_PROTOCOL_LABEL] === NATIVE_V1 ? 'native' : 'legacy';
}

/**
 * The download protocol of an image; inspection errors (unreachable registry, bad credentials,
 * platforms that disagree) are reported through `onError` and count as legacy, as upstream does.
 */
export async function resolveProtocol(
  inspector: ImageInspector | undefined,
  image: string,
  pullSecrets: DockerConfig[],
  onError?: (err: unknown) => void,
): Promise<DownloadProtocol> {
  if (!inspector || !image) return 'legacy';
  try {
    return protocolOf(await inspector.labels(image, pullSecrets));
  } catch (e) {
    onError?.(e);
    return 'legacy';
  }
}

/** An inspector answering from a function (e.g. the simulation's catalogue `sim.imageLabels`). */
export function inspectorFromLabels(fn: (image: string) => Record<string, string> | Promise<Record<string, string>>): ImageInspector {
  return {
    async labels(image) {
      return { ...(await fn(image)) };
    },
  };
}

/** Parses a Secret's `.dockerconfigjson` value (base64, as stored in `data`); throws on malformed JSON. */
export function parseDockerConfig(base64: string): DockerConfig {
  const doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown;
  if (typeof doc !== 'object' || doc === null) throw new Error('.dockerconfigjson is not a JSON object');
  return doc as DockerConfig;
}
