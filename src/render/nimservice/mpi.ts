/**
 * MPI mode of a multi-node NIMService (inventory §2.2.8 "MPI mode"; §6 behaviour 41): the host
 * files, the start script and the SSH key the leader uses to launch the model on every pod of its
 * group, and the volumes that bring them into the pods.
 */
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { Wire } from '../../api/schema.js';
import type { NIMService } from '../../api/v1alpha1/kinds.js';
import { serviceAnnotations } from '../labels.js';
import { childMeta, type NIMServiceFacts } from './common.js';
import { groupCount, isMultiNode, lwsName, pipelineSize, tensorSize } from './parallelism.js';
import { SSH_PRIVATE_KEY_FIELD } from './ssh.js';
import type { Volume, VolumeMount } from './storage.js';

export const START_SCRIPT_KEY = 'start-mpi-cluster.sh';
/** Mode of the two ConfigMap volumes: 0555 (the script must be executable). */
const EXECUTABLE = 0o555;
/** Mode of the key volume: 0400 (ssh refuses a key others can read). */
const OWNER_READ = 0o400;

/**
 * Our own start script, run by mpirun on each pod: the NIM's OpenAI API server, its output packed
 * into JSON lines when `NIM_JSONL_LOGGING=1` and the NIM ships the packer.
 */
export const MPI_START_SCRIPT = `#!/bin/bash
# Started by mpirun on every pod of the group; runs the model server of this NIM.
set -o pipefail
python=/opt/nim/llm/.venv/bin/python3
server=nim_llm_sdk.entrypoints.openai.api_server
packer=nim_llm_sdk.logging.pack_all_logs_into_json
if [ "\${NIM_JSONL_LOGGING:-0}" = "1" ] && "$python" -c "import $packer" >/dev/null 2>&1; then
  "$python" -m "$server" 2>&1 | "$python" -m "$packer"
else
  exec "$python" -m "$server"
fi
`;

/** MPI mode: multi-node without `multiNode.ray`. */
export function mpiMode(svc: NIMService): boolean {
  return isMultiNode(svc) && !svc.spec.multiNode?.ray;
}

export const mpiConfigName = (svc: NIMService) => `${svc.metadata.name ?? ''}-mpi-config`;
export const mpiScriptName = (svc: NIMService) => `${svc.metadata.name ?? ''}-mpi-start-script`;
export const sshSecretName = (svc: NIMService) => `${svc.metadata.name ?? ''}-ssh-pk`;

/**
 * The host file of each group `i` (key `hostfile-<i>`): the leader (`localhost`), then every worker
 * `<name>-lws-<i>-<j>.<name>-lws.<ns>.svc`, each with `slots=<tensor>`.
 */
export function hostfiles(svc: NIMService): Record<string, string> {
  const lws = lwsName(svc);
  const ns = svc.metadata.namespace ?? 'default';
  const slots = tensorSize(svc);
  const data: Record<string, string> = {};
  for (let i = 0; i < groupCount(svc); i++) {
    let text = `localhost slots=${slots}\n`;
    for (let j = 1; j < pipelineSize(svc); j++) text += `${lws}-${i}-${j}.${lws}.${ns}.svc slots=${slots}\n`;
    data[`hostfile-${i}`] = text;
  }
  return data;
}

/** ConfigMaps `<name>-mpi-config` (host files) and `<name>-mpi-start-script`. */
export function renderMPIConfigMaps(svc: NIMService, facts: NIMServiceFacts): Wire<V1ConfigMap>[] {
  const annotations = serviceAnnotations(svc);
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: childMeta(svc, facts, { name: mpiConfigName(svc), annotations }), data: hostfiles(svc) },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: childMeta(svc, facts, { name: mpiScriptName(svc), annotations }),
      data: { [START_SCRIPT_KEY]: MPI_START_SCRIPT },
    },
  ];
}

/** Secret `<name>-ssh-pk` holding `pem` (base64 in `data`, key `private.key`). */
export function renderSSHSecret(svc: NIMService, facts: NIMServiceFacts, pem: string): Wire<V1Secret> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(svc, facts, { name: sshSecretName(svc), annotations: serviceAnnotations(svc) }),
    data: { [SSH_PRIVATE_KEY_FIELD]: Buffer.from(pem, 'utf8').toString('base64') },
  };
}

const sshKeyVolume = (svc: NIMService): Volume => ({ name: 'ssh-pk', secret: { secretName: sshSecretName(svc), defaultMode: OWNER_READ } });
const scriptVolume = (svc: NIMService): Volume => ({ name: 'start-mpi-script', configMap: { name: mpiScriptName(svc), defaultMode: EXECUTABLE } });

/** Extra volumes of the leader: host files, SSH dot-files, key, start script. */
export function leaderMPIVolumes(svc: NIMService): Volume[] {
  return [
    { name: 'mpi-config', configMap: { name: mpiConfigName(svc), defaultMode: EXECUTABLE } },
    { name: 'ssh-dotfiles', emptyDir: {} },
    sshKeyVolume(svc),
    scriptVolume(svc),
  ];
}

/** Extra volumes of a worker: SSH server config, SSH dot-files, key, start script. */
export function workerMPIVolumes(svc: NIMService): Volume[] {
  return [{ name: 'ssh-confs', emptyDir: {} }, { name: 'ssh-dotfiles', emptyDir: {} }, sshKeyVolume(svc), scriptVolume(svc)];
}

const commonMounts: VolumeMount[] = [
  { name: 'ssh-dotfiles', mountPath: '/opt/nim/llm/.ssh' },
  { name: 'ssh-pk', mountPath: '/opt/nim/llm/pk' },
  { name: 'start-mpi-script', mountPath: `/opt/nim/${START_SCRIPT_KEY}`, subPath: START_SCRIPT_KEY },
];

export function leaderMPIMounts(): VolumeMount[] {
  return [{ name: 'mpi-config', mountPath: '/etc/mpi' }, ...structuredClone(commonMounts)];
}

export function workerMPIMounts(): VolumeMount[] {
  return [{ name: 'ssh-confs', mountPath: '/ssh-confs' }, ...structuredClone(commonMounts)];
}
