import { NftError } from '../errors';
import type { NftCommand, NftRunner } from './runner';
import { TABLE } from './table';

/** One field of an element's key or data: an address, protocol, port, interface name or MAC; in a prefix field, "addr/len". */
export type Field = string | number;

/** A map element's data: its fields (a concatenation when several) or a verdict. */
export type ElementData = readonly Field[] | { jump: string };

export interface NftSetSpec {
  family: 'inet' | 'bridge';
  kind: 'set' | 'map';
  name: string;
  /** Positions of the key fields that hold prefixes, e.g. "10.88.0.0/16" (an interval set's). */
  prefixFields?: number[];
}

/**
 * One set or map of the suite's table in `family`, and the one place its elements are spelt: in
 * nft's JSON, in its text syntax (for what the JSON parser of nftables 1.0.6 cannot say) and as
 * its listings show them, all from one key tuple.
 */
export class NftSet {
  readonly family: NftSetSpec['family'];
  readonly kind: NftSetSpec['kind'];
  readonly name: string;
  private readonly prefixFields: ReadonlySet<number>;

  constructor(spec: NftSetSpec) {
    this.family = spec.family;
    this.kind = spec.kind;
    this.name = spec.name;
    this.prefixFields = new Set(spec.prefixFields);
  }

  element(key: readonly Field[], data?: ElementData): SetElement {
    return new SetElement(this, key, data);
  }

  /** "inet cni_ts portmap4": the set as nft's text commands name it. */
  get textName(): string {
    return `${this.family} ${TABLE.name} ${this.name}`;
  }

  /** The keys the kernel holds, spelt as SetElement.listedKey (a missing table or set has none). */
  /** The shell command that deletes the element a listing shows as `listedKey` (for an operator). */
  deleteListedCommand(listedKey: string): string {
    return `nft delete element ${this.textName} '{ ${listedKey} }'`;
  }

  listedKeys(nft: NftRunner): string[] {
    try {
      const entry = nft.list(`list ${this.kind} ${this.textName}`).find((x) => typeof x === 'object' && x !== null && ('set' in x || 'map' in x)) as
        | { set?: { elem?: unknown[] }; map?: { elem?: unknown[] } }
        | undefined;
      return ((entry?.set ?? entry?.map)?.elem ?? []).map(listedKeyText);
    } catch (err) {
      if (err instanceof NftError) return [];
      throw err;
    }
  }

  keyJson(key: readonly Field[]): unknown {
    return concatJson(key.map((field, i) => (this.prefixFields.has(i) ? prefixJson(String(field)) : field)));
  }

  /** A listing shows a full-length prefix as a plain address. */
  listedKey(key: readonly Field[]): string {
    return key.map((field, i) => (this.prefixFields.has(i) ? listedPrefix(String(field)) : String(field))).join(' . ');
  }
}

/** One element of an NftSet: its key and, in a map, its data. */
export class SetElement {
  constructor(
    readonly set: NftSet,
    readonly key: readonly Field[],
    readonly data?: ElementData,
  ) {}

  /** The key as the set's listing spells it (see NftSet.listedKeys). */
  get listedKey(): string {
    return this.set.listedKey(this.key);
  }

  /** In a map, with its data. */
  addCommand(): NftCommand {
    const key = this.set.keyJson(this.key);
    return { add: { element: this.jsonTarget(this.data ? [key, dataJson(this.data)] : key) } };
  }

  deleteCommand(): NftCommand {
    return { delete: { element: this.jsonTarget(this.set.keyJson(this.key)) } };
  }

  addLine(): string {
    return `add element ${this.set.textName} { ${this.keyText()}${this.data ? ` : ${dataText(this.data)}` : ''} }`;
  }

  deleteLine(): string {
    return `delete element ${this.set.textName} { ${this.keyText()} }`;
  }

  /** Fails (NftError) when the set has no element with this key. */
  getLine(): string {
    return `get element ${this.set.textName} { ${this.keyText()} }`;
  }

  /** "portmap4 { tcp . 8080 }", for messages. */
  describe(): string {
    return `${this.set.name} { ${this.listedKey} }`;
  }

  private keyText(): string {
    return this.key.join(' . ');
  }

  private jsonTarget(elem: unknown) {
    return { family: this.set.family, table: TABLE.name, name: this.set.name, elem: [elem] };
  }
}

const concatJson = (fields: readonly unknown[]): unknown => (fields.length === 1 ? fields[0] : { concat: fields });

function prefixJson(prefix: string) {
  const [addr, len] = prefix.split('/');
  return { prefix: { addr, len: Number(len) } };
}

function listedPrefix(prefix: string): string {
  const [addr, len] = prefix.split('/');
  return Number(len) === (addr.includes(':') ? 128 : 32) ? addr : prefix;
}

const dataJson = (data: ElementData): unknown => ('jump' in data ? { jump: { target: data.jump } } : concatJson(data));

const dataText = (data: ElementData): string => ('jump' in data ? `jump ${data.jump}` : data.join(' . '));

/** A listed element's key: plain keys, map [key, value] pairs, concatenations "a . b", prefixes "a/n". */
function listedKeyText(element: unknown): string {
  const value = Array.isArray(element) ? element[0] : element;
  if (value && typeof value === 'object') {
    const v = value as { concat?: unknown[]; elem?: { val?: unknown }; prefix?: { addr: string; len: number } };
    if (v.concat) return v.concat.map(listedKeyText).join(' . ');
    if (v.elem) return listedKeyText(v.elem.val);
    if (v.prefix) return `${v.prefix.addr}/${v.prefix.len}`;
  }
  return String(value);
}
