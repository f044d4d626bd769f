/** GPUs and other devices claimed through Dynamic Resource Allocation. */
import {
  bool,
  enumOf,
  int32,
  list,
  obj,
  opt,
  quantity,
  rule,
  str,
  strList,
  type Static,
} from '../schema.js';
import { DNS_SUBDOMAIN_PATTERN } from './common.js';


const SELECTOR_OPS = ['Equal', 'NotEqual', 'GreaterThan', 'GreaterThanOrEqual', 'LessThan', 'LessThanOrEqual'] as const;

export const DRAResource = () =>
  obj(
    {
      resourceClaimName: opt(
        str('Name of an existing ResourceClaim, shared by all pods.', { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN }),
      ),
      resourceClaimTemplateName: opt(
        str('Name of an existing ResourceClaimTemplate; each pod gets its own claim.', {
          minLength: 1,
          maxLength: 253,
          pattern: DNS_SUBDOMAIN_PATTERN,
        }),
      ),
      claimCreationSpec: opt(
        obj(
          {
            generateName: opt(str('Prefix of the generated ResourceClaimTemplate name.', { minLength: 1, maxLength: 16 })),
            devices: list(
              obj(
                {
                  name: str('Name of the device request in the claim.', {
                    minLength: 1,
                    maxLength: 253,
                    pattern: DNS_SUBDOMAIN_PATTERN,
                  }),
                  count: int32('How many devices to request.', { default: 1 }),
                  deviceClassName: str('DeviceClass the devices come from.', { default: 'gpu.nvidia.com' }),
                  driverName: opt(
                    str('DRA driver that publishes the devices; selector keys without a domain belong to it.', {
                      default: 'gpu.nvidia.com',
                      maxLength: 253,
                      pattern: DNS_SUBDOMAIN_PATTERN,
                    }),
                  ),
                  attributeSelectors: opt(
                    list(
                      obj(
                        {
                          key: str('Device attribute, with or without a domain prefix.', { maxLength: 64 }),
                          op: enumOf(SELECTOR_OPS, 'How the attribute is compared with the value.', { default: 'Equal' }),
                          value: opt(
                            obj(
                              {
                                boolValue: opt(bool('A boolean.')),
                                intValue: opt(int32('An integer.')),
                                stringValue: opt(str('A string.', { maxLength: 64 })),
                                versionValue: opt(str('A semantic version (semver 2.0.0).', { maxLength: 64 })),
                              },
                              'The value to compare with; set one of its fields.',
                            ),
                          ),
                        },
                        'A condition on a device attribute.',
                      ),
                      'Conditions on device attributes; all must hold.',
                    ),
                  ),
                  capacitySelectors: opt(
                    list(
                      obj(
                        {
                          key: str('Device capacity, with or without a domain prefix.', { maxLength: 64 }),
                          op: enumOf(SELECTOR_OPS, 'How the capacity is compared with the value.', { default: 'Equal' }),
                          value: quantity('The quantity to compare with.'),
                        },
                        'A condition on a device capacity.',
                      ),
                      'Conditions on device capacities; all must hold.',
                    ),
                  ),
                  celExpressions: opt(strList('Raw DRA CEL selectors on the device; all must hold.')),
                },
                'One device request.',
                {
                  rules: [
                    rule(
                      '(has(self.celExpressions) && !(has(self.attributeSelectors) || has(self.capacitySelectors))) || !has(self.celExpressions)',
                      'celExpressions must not be set if attributeSelectors or capacitySelectors are set',
                    ),
                  ],
                },
              ),
              'Device requests of the claim.',
            ),
          },
          'Have the operator create a ResourceClaimTemplate from these device requests.',
        ),
      ),
      requests: opt(strList('Requests of the claim the model container uses; all of them when empty.', { minLength: 1 })),
    },
    'GPUs (or other devices) claimed through Dynamic Resource Allocation.',
    {
      rules: [
        rule(
          '(has(self.resourceClaimName) ? 1 : 0) + (has(self.resourceClaimTemplateName) ? 1 : 0) + (has(self.claimCreationSpec) ? 1 : 0) == 1',
          'exactly one of spec.resourceClaimName, spec.resourceClaimTemplateName, or spec.claimCreationSpec must be set.',
        ),
      ],
    },
  );
export type DRAResource = Static<ReturnType<typeof DRAResource>>;
