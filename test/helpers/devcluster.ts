/** Starts an embedded control plane for a test, with our CRDs, a kubeconfig and a kubectl runner. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allCRDs } from '../../src/api/crd.js';
import { writeKubeconfig } from '../../src/devcluster/kubeconfig.js';
import { ControlPlane, type ControlPlaneOptions } from '../../src/devcluster/server.js';
import type { Obj } from '../../src/devcluster/store.js';

export const KUBECTL = ['1.33', '1.32', '1.31', '1.30']
  .map((v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`)
  .find((p) => existsSync(p)) ?? 'kubectl';

export interface TestCluster {
  cp: ControlPlane;
  dir: string;
  kubeconfig: string;
  /** Runs kubectl to completion (asynchronously: the control plane runs in this process). */
  kubectl(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }>;
  /** Runs kubectl without waiting (watches); resolves when it exits. */
  kubectlAsync(args: string[]): { done: Promise<{ status: number | null; stdout: string; stderr: string }>; kill(): void; output(): string };
  stop(): Promise<void>;
}

export async function startCluster(opts: ControlPlaneOptions = {}): Promise<TestCluster> {
  const cp = new ControlPlane(opts);
  await cp.start();
  const crdType = cp.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  for (const crd of allCRDs()) cp.objects.ensure(crdType, undefined, crd as Obj);
  const dir = mkdtempSync(join(tmpdir(), 'nimop-cluster-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, cp.url);
  const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache'), HOME: dir };
  return {
    cp,
    dir,
    kubeconfig,
    kubectl(args, input) {
      const child = spawn(KUBECTL, args, { env, cwd: dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      if (input !== undefined) child.stdin.end(input);
      else child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      return new Promise((resolve) =>
        child.on('close', (status) => {
          clearTimeout(timer);
          resolve({ status, stdout, stderr });
        }),
      );
    },
    kubectlAsync(args) {
      const child = spawn(KUBECTL, args, { env, cwd: dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
        child.on('close', (status) => resolve({ status, stdout, stderr })),
      );
      return { done, kill: () => child.kill('SIGTERM'), output: () => stdout };
    },
    async stop() {
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a truthy value or the deadline passes (no fixed sleeps in tests). */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
