import * as z from 'zod/mini';
import { invalidField } from '../../lib/errors';
import { checkKnownArgs, type CmdArgs } from '../../lib/skel';
import { NetConf, parseWith } from '../../lib/types';

const opt = z.optional;

const DnsnameConf = z.extend(NetConf, {
  domainName: opt(z.string()),
  runtimeConfig: opt(z.looseObject({ aliases: opt(z.record(z.string(), z.array(z.string()))) })),
});

/** Podman 4's constant (containers/common defaultPodmanDomainName). */
export const DEFAULT_DOMAIN = 'dns.podman';

export interface DnsnameConfig {
  cniVersion: string;
  networkName: string;
  domain: string;
  /** The container's name (CNI_ARGS K8S_POD_NAME) and its aliases on this network, each a DNS label, without repeats. */
  names: string[];
}

// a DNS label as container engines write names: letters, digits, "_" and "-", starting with a letter or digit
const LABEL = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const isName = (value: string) => value.length <= 253 && value.split('.').every((l) => LABEL.test(l));

/**
 * Every name goes into dnsmasq's hosts file and the domain into its config, so anything but DNS
 * labels is refused here, before anything is written: no newline, space, "#" or "=" can reach
 * dnsmasq. Dots are allowed between labels, as Podman allows them in container names ("my.app").
 */
function label(value: string, field: string): string {
  if (!isName(value))
    throw invalidField(field, `${JSON.stringify(value)} is not a DNS name (labels of 1-63 letters, digits, "_" or "-", starting with a letter or digit, separated by ".")`);
  return value;
}

function domain(value: string | undefined): string {
  if (value === undefined || value === '') return DEFAULT_DOMAIN;
  const name = value.replace(/\.$/, '');
  if (!isName(name)) throw invalidField('domainName', `${JSON.stringify(value)} is not a domain name (DNS labels separated by ".")`);
  return name;
}

/** containers/dnsname's fields; names from CNI_ARGS K8S_POD_NAME (as Podman passes them) and runtimeConfig.aliases[network]. */
export function parseConfig(cmd: CmdArgs): DnsnameConfig {
  const conf = parseWith(DnsnameConf, cmd.config, 'dnsname config');
  checkKnownArgs(cmd.args, ['K8S_POD_NAME', 'K8S_POD_NAMESPACE', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID']);
  const podName = cmd.args.get('K8S_POD_NAME');
  const names = podName ? [label(podName, 'CNI_ARGS K8S_POD_NAME')] : [];
  const aliases = conf.runtimeConfig?.aliases?.[conf.name] ?? [];
  for (const [i, alias] of aliases.entries()) names.push(label(alias, `runtimeConfig.aliases[${JSON.stringify(conf.name)}][${i}]`));
  return { cniVersion: conf.cniVersion, networkName: conf.name, domain: domain(conf.domainName), names: [...new Set(names)] };
}
