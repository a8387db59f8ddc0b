import { readFileSync } from 'node:fs';
import { CniError, ErrorCode } from '../../lib/errors';
import type { DNS } from '../../lib/types';

/** Parses a resolv.conf into a CNI dns object, as the reference host-local does. */
export function parseResolvConf(text: string): DNS {
  const dns: Required<DNS> = { nameservers: [], domain: '', search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const [key, ...values] = line.split(/\s+/);
    if (key === 'nameserver' && values[0]) dns.nameservers.push(values[0]);
    else if (key === 'domain' && values[0]) dns.domain = values[0];
    else if (key === 'search') dns.search.push(...values);
    else if (key === 'options') dns.options.push(...values);
  }
  return dns;
}

export function readResolvConf(path: string): DNS {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CniError(ErrorCode.IOFailure, `cannot read field "ipam.resolvConf" file ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
}
