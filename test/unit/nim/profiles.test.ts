/** Profile selection, every rule of inventory §2.1.4 for both manifest formats (behaviour 57). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { discoverGPUs, matchProfiles, type ModelSelector } from '../../../src/nim/profiles.js';
import type { NimManifest } from '../../../src/nim/manifest.js';
import { CLUSTER_GPUS, inline, names, v1, v2 } from './fixtures.js';

const pick = (m: NimManifest, sel: ModelSelector, gpus: string[] = []) => names(m, matchProfiles(m, sel, gpus));
const H100 = ['NVIDIA-H100-80GB-HBM3'];

describe('v1 manifests', () => {
  const m = v1();
  const TRT_H100 = ['tensorrt_llm-h100-bf16-tp1-throughput', 'tensorrt_llm-h100-bf16-tp4-latency', 'tensorrt_llm-h100-fp8-tp1-throughput', 'tensorrt_llm-h100-fp8-tp2-latency', 'tensorrt_llm-h100-fp8-tp2-throughput', 'tensorrt_llm-h100-fp8-tp8-throughput'];

  test('no filters: every profile except the LoRA ones (LoRA is opt-in in v1), in id order', () => {
    const ids = matchProfiles(m, {}, []);
    assert.equal(ids.length, 18);
    assert.deepEqual(ids, [...ids].sort());
    assert.ok(!pick(m, {}).some((n) => n.endsWith('-lora')));
  });
  test('no engine and no GPUs named: the nodes\' GPUs do not filter at all', () => {
    assert.equal(matchProfiles(m, {}, CLUSTER_GPUS).length, 18);
    assert.equal(matchProfiles(m, {}, ['NVIDIA-B200']).length, 18);
  });
  test('lora: true keeps only LoRA profiles; lora: false only those tagged "false"', () => {
    assert.deepEqual(pick(m, { lora: true }), ['tensorrt_llm-h100-bf16-tp1-throughput-lora', 'vllm-bf16-tp1-lora']);
    assert.equal(matchProfiles(m, { lora: false }).length, 18);
    const untagged = inline('v1', { a: { llm_engine: 'vllm', tp: '1' } });
    assert.deepEqual(matchProfiles(untagged, { lora: false }), [], 'a profile without feat_lora does not equal "false"');
    assert.deepEqual(matchProfiles(untagged, {}), ['a']);
  });
  test('precision, tp and qosProfile compare exactly, case included', () => {
    assert.deepEqual(pick(m, { engine: 'tensorrt_llm', precision: 'fp8', tensorParallelism: '2', qosProfile: 'latency' }, CLUSTER_GPUS), ['tensorrt_llm-h100-fp8-tp2-latency']);
    assert.deepEqual(pick(m, { precision: 'FP8' }), []);
    assert.deepEqual(pick(m, { qosProfile: 'Latency' }), []);
  });
  test('engine: tensorrt_llm loses its _llm suffix and is a case-sensitive substring of llm_engine (or backend)', () => {
    assert.deepEqual(pick(m, { engine: 'vllm' }, CLUSTER_GPUS), ['vllm-bf16-tp1', 'vllm-bf16-tp2', 'vllm-bf16-tp4']);
    assert.deepEqual(pick(m, { engine: 'VLLM' }), []);
    const b = inline('v1', { a: { backend: 'tensorrt', gpu: 'H100' }, b: { backend: 'onnx' } });
    assert.deepEqual(matchProfiles(b, { engine: 'tensorrt_llm' }, H100), ['a']);
  });
  test('a TensorRT engine filters by GPU: the nodes\' GPUs, and an empty gpu tag (buildable profiles) matches any of them', () => {
    assert.deepEqual(pick(m, { engine: 'tensorrt_llm', tensorParallelism: '1' }, H100), [
      'tensorrt_llm-buildable-bf16-tp1',
      'tensorrt_llm-h100-bf16-tp1-throughput',
      'tensorrt_llm-h100-fp8-tp1-throughput',
    ]);
    assert.deepEqual(pick(m, { engine: 'tensorrt_llm', precision: 'fp8', tensorParallelism: '1' }, CLUSTER_GPUS), [
      'tensorrt_llm-h100-fp8-tp1-throughput',
      'tensorrt_llm-l40s-fp8-tp1-throughput',
    ]);
  });
  test('a TensorRT engine with no GPU found on the nodes: no GPU filter', () => {
    assert.equal(matchProfiles(m, { engine: 'tensorrt_llm' }, []).length, 13);
  });
  test('a non-TensorRT engine is not filtered by GPU', () => {
    assert.deepEqual(pick(m, { engine: 'sglang' }, H100), ['sglang-bf16-tp2', 'sglang-fp8-tp8']);
  });
  test('named GPUs: only TensorRT profiles whose gpu (or key) contains the product, case-insensitive; buildable ones do not match', () => {
    assert.deepEqual(pick(m, { gpus: [{ product: 'h100' }] }), TRT_H100);
    assert.deepEqual(pick(m, { gpus: [{ product: 'H100' }], engine: 'vllm' }), [], 'vLLM is not a TensorRT engine');
  });
  test('named GPU ids: the profile\'s gpu_device (without :10de) must be one of them', () => {
    assert.deepEqual(pick(m, { gpus: [{ product: 'h100', ids: ['2330'] }] }), TRT_H100);
    assert.deepEqual(pick(m, { gpus: [{ product: 'h100', ids: ['2331'] }] }), []);
    assert.deepEqual(pick(m, { gpus: [{ product: 'a100', ids: ['20b2'] }, { product: 'l40s' }], precision: 'bf16' }), [
      'tensorrt_llm-a100-bf16-tp1-throughput',
      'tensorrt_llm-a100-bf16-tp2-latency',
      'tensorrt_llm-a100-bf16-tp4-throughput',
      'tensorrt_llm-l40s-bf16-tp2-throughput',
    ]);
  });
  test('a GPU named with ids only (no product) matches nothing in v1', () => {
    assert.deepEqual(pick(m, { gpus: [{ ids: ['2330'] }] }), []);
  });
  test('product_name_regex tags match the nodes\' labels; an invalid pattern never matches', () => {
    const r = inline('v1', {
      a: { backend: 'tensorrt', gpu: 'zz', product_name_regex: '^NVIDIA-A100.*' },
      b: { backend: 'tensorrt', gpu: 'zz', product_name_regex: '([' },
      c: { backend: 'tensorrt', gpu: 'zz', key: 'NVIDIA-H100_10', product_name_regex: '^NVIDIA-B200' },
    });
    assert.deepEqual(matchProfiles(r, { engine: 'tensorrt' }, ['NVIDIA-A100-SXM4-80GB']), ['a']);
    assert.deepEqual(matchProfiles(r, { gpus: [{ product: 'h100' }] }), ['c'], 'a named product also matches the key tag');
  });
});

describe('v2 manifests', () => {
  const m = v2();

  test('no filters and no GPUs found: everything, LoRA included, in list order', () => {
    const ids = matchProfiles(m, {}, []);
    assert.deepEqual(ids, m.profiles.map((p) => p.id));
  });
  test('precision, tp, qosProfile, lora and buildable compare case-insensitively', () => {
    assert.deepEqual(pick(m, { precision: 'fp8', qosProfile: 'throughput' }), ['tensorrt_llm-h100-fp8-tp1-throughput', 'tensorrt_llm-l40s-fp8-tp4-throughput']);
    assert.deepEqual(pick(m, { lora: true }), ['tensorrt_llm-h100-bf16-tp1-throughput-lora', 'vllm-bf16-tp1-lora']);
    assert.deepEqual(pick(m, { buildable: true }), ['tensorrt_llm-buildable-bf16-tp1', 'tensorrt_llm-buildable-fp8-tp2']);
  });
  test('lora and buildable set to false need the tag to say "false": an absent tag does not', () => {
    assert.deepEqual(pick(m, { buildable: false }), []);
    assert.ok(!pick(m, { lora: false }).some((n) => n.endsWith('-lora')));
    assert.ok(!pick(m, { lora: false }).some((n) => n.startsWith('triton')), 'the triton profiles have no feat_lora tag');
  });
  test('engine: from llm_engine, model_type or backend, triton counts as tensorrt, case-insensitive', () => {
    assert.deepEqual(pick(m, { engine: 'SGLang' }), ['sglang-bf16-tp8']);
    assert.deepEqual(pick(m, { engine: 'tensorrt', precision: 'fp16' }), ['triton-nvidia-a100-sxm4-80gb-fp16-tp1', 'triton-nvidia-h100-80gb-hbm3-fp16-tp1']);
    assert.equal(matchProfiles(m, { engine: 'TensorRT_LLM' }).length, 9, 'tensorrt_llm (7) and triton (2) profiles');
  });
  test('the nodes\' GPUs filter profiles with gpu, key or product_name_regex tags; profiles without them pass', () => {
    assert.deepEqual(pick(m, {}, H100), [
      'sglang-bf16-tp8',
      'tensorrt_llm-buildable-bf16-tp1',
      'tensorrt_llm-buildable-fp8-tp2',
      'tensorrt_llm-h100-bf16-tp1-throughput-lora',
      'tensorrt_llm-h100-fp8-tp1-throughput',
      'tensorrt_llm-h100-fp8-tp2-latency',
      'triton-nvidia-h100-80gb-hbm3-fp16-tp1',
      'vllm-bf16-tp1',
      'vllm-bf16-tp1-lora',
    ]);
  });
  test('named products: gpu or key must contain one; buildable profiles failing only the GPU check are kept', () => {
    assert.deepEqual(pick(m, { gpus: [{ product: 'A100' }] }), [
      'tensorrt_llm-a100-bf16-tp2-throughput',
      'tensorrt_llm-buildable-bf16-tp1',
      'tensorrt_llm-buildable-fp8-tp2',
      'triton-nvidia-a100-sxm4-80gb-fp16-tp1',
    ]);
  });
  test('named ids: gpu_device must be present and one of them (ids alone work in v2)', () => {
    assert.deepEqual(pick(m, { gpus: [{ ids: ['2330'] }], buildable: true }), ['tensorrt_llm-buildable-bf16-tp1', 'tensorrt_llm-buildable-fp8-tp2']);
    assert.deepEqual(pick(m, { gpus: [{ ids: ['2330'] }], precision: 'FP8' }), ['tensorrt_llm-buildable-fp8-tp2', 'tensorrt_llm-h100-fp8-tp1-throughput', 'tensorrt_llm-h100-fp8-tp2-latency']);
    assert.deepEqual(pick(m, { gpus: [{ product: 'h100', ids: ['20b2'] }], engine: 'vllm' }), []);
  });
  test('an empty gpu tag matches no GPU in v2, where v1 matches every GPU', () => {
    const tags = { llm_engine: 'tensorrt_llm', gpu: '', key: 'L4_12' };
    assert.deepEqual(matchProfiles(inline('v2', { a: tags }), {}, H100), []);
    assert.deepEqual(matchProfiles(inline('v1', { a: tags }), { engine: 'tensorrt_llm' }, H100), ['a']);
  });
});

describe('GPU discovery', () => {
  test('distinct non-blank nvidia.com/gpu.product labels of the nodes, sorted', () => {
    const node = (p?: string) => ({ metadata: { labels: (p === undefined ? {} : { 'nvidia.com/gpu.product': p }) as Record<string, string> } });
    assert.deepEqual(discoverGPUs([node('NVIDIA-L40S'), node('NVIDIA-H100-80GB-HBM3'), node('NVIDIA-L40S'), node(' '), node()]), ['NVIDIA-H100-80GB-HBM3', 'NVIDIA-L40S']);
  });
});
