/** Autoscaling, metrics collection and probes of a NIMService. */
import type * as k from '@kubernetes/client-node';
import {
  bool,
  int32,
  k8s,
  k8sList,
  obj,
  opt,
  str,
  strMap,
} from '../schema.js';

const DURATION_PATTERN = '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$';

export const Autoscaling = () =>
  obj(
    {
      enabled: opt(bool('Scale with a HorizontalPodAutoscaler. spec.replicas must then be left unset.')),
      annotations: opt(strMap('Annotations put on the HorizontalPodAutoscaler.')),
      hpa: opt(
        obj(
          {
            minReplicas: opt(int32('Fewest replicas.', { default: 1, minimum: 1 })),
            maxReplicas: int32('Most replicas.'),
            metrics: opt(
              k8sList<k.V2MetricSpec>(
                'V2MetricSpec',
                'Metrics to scale on (autoscaling/v2). GPU workloads scale better on a model metric (queue depth, KV-cache use) than on CPU.',
              ),
            ),
            behavior: opt(
              k8s<k.V2HorizontalPodAutoscalerBehavior>(
                'V2HorizontalPodAutoscalerBehavior',
                'Scale-up and scale-down policies (autoscaling/v2).',
              ),
            ),
          },
          'The HorizontalPodAutoscaler\'s bounds, metrics and behaviour.',
        ),
      ),
    },
    'Horizontal autoscaling.',
  );

export const Metrics = () =>
  obj(
    {
      enabled: opt(bool('Create a Prometheus Operator ServiceMonitor for the metrics endpoint.')),
      serviceMonitor: opt(
        obj(
          {
            additionalLabels: opt(strMap('Labels put on the ServiceMonitor, e.g. to match a Prometheus selector.')),
            annotations: opt(strMap('Annotations put on the ServiceMonitor.')),
            interval: opt(str('Scrape interval, as a Prometheus duration (30s, 1m).', { pattern: DURATION_PATTERN })),
            scrapeTimeout: opt(str('Scrape timeout, as a Prometheus duration.', { pattern: DURATION_PATTERN })),
          },
          'The ServiceMonitor\'s labels and scrape settings.',
        ),
      ),
    },
    'Metrics collection.',
  );

export const ProbeSpec = (which: string) =>
  obj(
    {
      enabled: opt(bool(`Run the ${which} probe (default true).`)),
      probe: opt(k8s<k.V1Probe>('V1Probe', `The ${which} probe; a default suited to NIM when empty.`)),
    },
    `The ${which} probe of the model container.`,
  );

