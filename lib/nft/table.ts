import type { NftCommand } from './runner';

/** The suite's own table; nothing else on the host is ever read or written. */
export const TABLE = { family: 'inet', name: 'cni_ts' } as const;

const COMMENT = 'CNI plugins (cni-ts); state in /var/lib/cni-ts';

export const addTable = (): NftCommand => ({ add: { table: { ...TABLE, comment: COMMENT } } });

/** The same as addTable, in nft's text syntax. */
export const addTableText = (): string => `add table ${TABLE.family} ${TABLE.name} { comment "${COMMENT}" ; }`;

/** nftables' name of an IP family: a table's family, and the protocol of a payload match (`ip daddr`). */
export const nftFamily = (family: 4 | 6): 'ip' | 'ip6' => (family === 4 ? 'ip' : 'ip6');

export const inTable = <T extends object>(obj: T) => ({ family: TABLE.family, table: TABLE.name, ...obj });

/** nftables chain names: keep letters, digits, "-" and "_" so the text listing stays readable. */
export const safeName = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_');
