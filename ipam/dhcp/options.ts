import { invalidField } from '../../lib/errors';
import type { CniArgs } from '../../lib/skel';
import { Option } from './message';

/** The option names the reference accepts besides numbers (its optionNameToID, from dhcp-options(5)). */
export const OPTION_NAMES: Record<string, number> = {
  'dhcp-client-identifier': Option.CLIENT_ID,
  'subnet-mask': Option.SUBNET_MASK,
  routers: Option.ROUTER,
  'host-name': Option.HOST_NAME,
  'user-class': Option.USER_CLASS,
  'vendor-class-identifier': Option.VENDOR_CLASS,
};

/**
 * What we ask servers for unless `request` says `skipDefault`: the reference asks for routers and
 * subnet-mask only; we add what the result also carries (DNS servers, domain name, domain search)
 * and classless static routes, which RFC 3442 says a client that understands them asks for.
 */
export const DEFAULT_REQUESTED = [Option.ROUTER, Option.SUBNET_MASK, Option.DNS_SERVERS, Option.DOMAIN_NAME, Option.DOMAIN_SEARCH, Option.CLASSLESS_ROUTES];

/** Options the client itself must control: a value for them would break the exchange. */
const RESERVED = new Set<number>([Option.PAD, Option.END, Option.MESSAGE_TYPE, Option.OVERLOAD]);

export interface ProvideEntry {
  option: string;
  value?: string | null;
  fromArg?: string | null;
}

export interface RequestEntry {
  option?: string | null;
  skipDefault?: boolean | null;
}

/** An option by name or decimal code (0 to 255), as the reference's parseOptionName; undefined when neither. */
export function parseOptionName(option: string): number | undefined {
  if (Object.hasOwn(OPTION_NAMES, option)) return OPTION_NAMES[option];
  if (option === '' || option.length > 3 || ![...option].every((c) => c >= '0' && c <= '9')) return undefined;
  const code = Number(option);
  return code <= 255 ? code : undefined;
}

function optionCode(option: string, field: string): number {
  const code = parseOptionName(option);
  if (code === undefined) {
    throw invalidField(field, `${JSON.stringify(option)} is neither an option number (0 to 255) nor one of ${Object.keys(OPTION_NAMES).join(', ')}`);
  }
  return code;
}

/**
 * The options the client sends with every DISCOVER and REQUEST, as the reference's prepareOptions:
 * each `provide` entry sends its `value`, then the `CNI_ARGS` value named by `fromArg` when there
 * is one (that wins), as text; a later entry for the same option replaces an earlier one. A
 * provided client identifier (61) replaces the one made from the container.
 */
export function providedOptions(entries: ProvideEntry[], args: CniArgs): Map<number, Buffer> {
  const options = new Map<number, Buffer>();
  entries.forEach((entry, i) => {
    const field = `ipam.provide[${i}]`;
    const code = optionCode(entry.option, `${field}.option`);
    if (RESERVED.has(code)) throw invalidField(`${field}.option`, `option ${code} is the client's own and cannot be provided`);
    const set = (value: string, from: string) => {
      const bytes = Buffer.from(value, 'utf8');
      if (bytes.length > 255) throw invalidField(from, `the value of option ${JSON.stringify(entry.option)} is ${bytes.length} bytes; the limit is 255`);
      options.delete(code);
      options.set(code, bytes);
    };
    if (entry.value) set(entry.value, `${field}.value`);
    const fromArg = entry.fromArg ? args.get(entry.fromArg) : undefined;
    if (fromArg !== undefined) set(fromArg, `CNI_ARGS ${entry.fromArg}`);
  });
  return options;
}

/**
 * The parameter request list (option 55): the `request` options in order, then the defaults
 * unless an entry says `skipDefault`; each code once. Empty means no option 55 at all.
 */
export function requestedOptions(entries: RequestEntry[]): number[] {
  const codes: number[] = [];
  const add = (code: number) => {
    if (!codes.includes(code)) codes.push(code);
  };
  let skipDefault = false;
  entries.forEach((entry, i) => {
    if (entry.skipDefault) skipDefault = true;
    if (entry.option) add(optionCode(entry.option, `ipam.request[${i}].option`));
  });
  if (!skipDefault) DEFAULT_REQUESTED.forEach(add);
  return codes;
}

/**
 * The reference's client identifier: "<container id>/<network>/<ifname>", cut to 254 bytes so
 * that with its type byte (0) it fits one option.
 */
export function clientIdOf(containerId: string, network: string, ifname: string): string {
  const id = Buffer.from(`${containerId}/${network}/${ifname}`, 'utf8');
  return id.length > 254 ? id.subarray(0, 254).toString('latin1') : id.toString('latin1');
}

/** Option 61's value for a client id: type 0 (not a hardware address), then the id's bytes. */
export const clientIdOption = (clientId: string): Buffer => Buffer.concat([Buffer.from([0]), Buffer.from(clientId, 'latin1')]);
