import { invalidField } from '../errors';

const macPattern = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

/**
 * The MAC asked for, from sources in increasing precedence (as in the reference plugins: the
 * config's own field, CNI_ARGS MAC, args.cni.mac, runtimeConfig.mac); each is validated and named.
 */
export function requestedMac(candidates: Array<[value: string | undefined, field: string]>): string | undefined {
  let mac: string | undefined;
  for (const [value, field] of candidates) {
    if (!value) continue;
    if (!macPattern.test(value)) throw invalidField(field, `${JSON.stringify(value)} is not a MAC address like "c2:11:22:33:44:55"`);
    if (parseInt(value.slice(0, 2), 16) & 1) throw invalidField(field, `${value} is a multicast address`);
    mac = value.toLowerCase();
  }
  return mac;
}
