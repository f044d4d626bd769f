/** NIMPipeline: several NIMServices managed as one unit (RAG and agent stacks). */
import { bool, int32, list, obj, opt, str, strMap, type Static } from '../schema.js';
import { Conditions } from './common.js';
import { NIMServiceSpec, SERVICE_SPEC_RULES } from './nimservice.js';

export const NIMPipelineSpec = () =>
  obj(
    {
      services: opt(
        list(
          obj(
            {
              name: opt(str('Name of the NIMService to create.')),
              enabled: opt(bool('Run this service. Services are off unless enabled is true.')),
              spec: opt(NIMServiceSpec(SERVICE_SPEC_RULES)),
              dependencies: opt(
                list(
                  obj(
                    {
                      name: str('Name of the service depended on.'),
                      port: int32('Port of the service depended on.'),
                      envName: opt(str('Environment variable that receives the endpoint.')),
                      envValue: opt(str('Value of that environment variable.')),
                    },
                    'A service this one calls.',
                  ),
                  'Services this one calls, passed to it as environment variables.',
                ),
              ),
            },
            'One service of the pipeline.',
          ),
          'The services of the pipeline.',
        ),
      ),
    },
    'The services that make up the pipeline.',
  );

export const NIMPipelineStatus = () =>
  obj(
    {
      state: opt(str('Overall state: Ready when every enabled service is, NotReady or Failed otherwise.')),
      states: opt(strMap('State of each service, by name.')),
      conditions: opt(Conditions()),
    },
    'What the operator observed.',
  );

export type NIMPipelineSpec = Static<ReturnType<typeof NIMPipelineSpec>>;
export type NIMPipelineStatus = Static<ReturnType<typeof NIMPipelineStatus>>;
