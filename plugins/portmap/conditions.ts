import { createHash } from 'node:crypto';
import { CniError, ErrorCode, invalidField } from '../../lib/errors';
import type { Family } from '../../lib/ip';

/**
 * `conditionsV4` / `conditionsV6`: nftables match expressions (the reference's nftables syntax,
 * words joined by spaces) that a packet must also match for this network's mappings of that
 * family to apply, e.g. ["iifname", "eth0"] or ["ip saddr != 10.0.0.0/8"].
 *
 * They are written into a chain of the suite's table, so only matches may pass: no word may be a
 * statement or verdict, and nothing that ends a command, starts a comment, quotes across words
 * or names a set. What nftables itself refuses is found before ADD changes anything (`checkConditions`).
 */
export type Conditions = Partial<Record<Family, string>>;

const WORD = /^[A-Za-z0-9_.:/!=<>,{}[\]*~&|^+"-]+$/;
const STATEMENTS = new Set(
  [
    'accept drop reject queue continue return jump goto',
    'dnat snat masquerade redirect tproxy notrack dup fwd synproxy',
    'counter log limit quota meter flow set map vmap',
    'add insert replace delete create flush reset destroy table chain rule element define include',
  ].flatMap((line) => line.split(' ')),
);

/** The conditions of one family as one text, or undefined when none (absent, [] or [""] as the reference). */
export function parseConditions(field: 'conditionsV4' | 'conditionsV6', words: string[] | undefined): string | undefined {
  if (!words?.length || words[0] === '') return undefined;
  // the reference picks its iptables backend for these; there is none here
  if (/^[-!]/.test(words[0])) {
    throw new CniError(
      ErrorCode.UnsupportedField,
      `unsupported value of field "${field}": ${JSON.stringify(words.join(' '))} is iptables syntax; write the conditions as nftables matches (e.g. ["ip", "daddr", "!=", "192.0.2.1"])`,
    );
  }
  const split = words.flatMap((w) => w.split(/[ \t]+/)).filter(Boolean);
  for (const word of split) {
    if (!WORD.test(word)) throw invalidField(field, `${JSON.stringify(word)} is not a word of an nftables match (letters, digits and operators only)`);
    if (STATEMENTS.has(word.toLowerCase())) throw invalidField(field, `${JSON.stringify(word)} is a statement, not a match: conditions only select packets`);
  }
  if ((split.join(' ').match(/"/g) ?? []).length % 2) throw invalidField(field, 'a quoted string is not closed');
  if (split.some((w) => w.startsWith('"') !== w.endsWith('"') || (w.startsWith('"') && w.length < 2))) {
    throw invalidField(field, 'a quoted string spans words: quote one word at a time');
  }
  return split.join(' ');
}

/** A short name for one family's conditions: the suffix of its maps and chains. */
export const conditionsId = (conditions: string): string => createHash('sha256').update(conditions).digest('hex').slice(0, 8);
