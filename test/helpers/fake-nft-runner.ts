import type { NftCommand, NftRunner } from '../../lib/nft/runner';

/** Records transactions instead of applying them: golden tests of rule generation without root. */
export class FakeNftRunner implements NftRunner {
  readonly backend = 'fake';
  readonly transactions: NftCommand[][] = [];
  readonly scripts: string[] = [];
  listings: Record<string, unknown[]> = {};
  textListings: Record<string, string> = {};
  failNext = false;

  apply(commands: NftCommand[]): void {
    this.maybeFail();
    if (commands.length) this.transactions.push(commands);
  }

  run(script: string): void {
    this.maybeFail();
    this.scripts.push(script);
  }

  private maybeFail(): void {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('fake nft failure');
    }
  }

  list(what: string): unknown[] {
    return this.listings[what] ?? [];
  }

  listText(what: string): string {
    return this.textListings[what] ?? '';
  }
}
