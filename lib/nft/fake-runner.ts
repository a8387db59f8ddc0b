import type { NftCommand, NftRunner } from './runner';

/** Records transactions instead of applying them: golden tests of rule generation without root. */
export class FakeNftRunner implements NftRunner {
  readonly backend = 'fake';
  readonly transactions: NftCommand[][] = [];
  listings: Record<string, unknown[]> = {};
  failNext = false;

  apply(commands: NftCommand[]): void {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('fake nft failure');
    }
    if (commands.length) this.transactions.push(commands);
  }

  list(what: string): unknown[] {
    return this.listings[what] ?? [];
  }
}
