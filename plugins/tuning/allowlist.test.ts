import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertAllowed, readAllowlist } from './allowlist';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnit-allowlist-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'allowlist.conf'), text);
  return join(dir, 'allowlist.conf');
}

describe('tuning sysctl allowlist', () => {
  it('without the file, everything is allowed', () => {
    expect(readAllowlist('/nonexistent/allowlist.conf')).toBeUndefined();
    expect(() => assertAllowed(['net.core.somaxconn'], '/nonexistent/allowlist.conf')).not.toThrow();
  });

  it('matches each key anywhere in it, as Go regexp.MatchString does, skipping blank lines and trimming', () => {
    const path = file('\n  ^net\\.ipv4\\.conf\\.IFNAME\\.  \n\nsomaxconn\n');
    expect(readAllowlist(path)?.map((a) => a.source)).toEqual(['^net\\.ipv4\\.conf\\.IFNAME\\.', 'somaxconn']);
    expect(() => assertAllowed(['net.ipv4.conf.IFNAME.rp_filter', 'net.core.somaxconn'], path)).not.toThrow();
    expect(() => assertAllowed(['net.ipv4.conf.eth0.rp_filter'], path)).toThrow(/sysctl\["net.ipv4.conf.eth0.rp_filter"\].*does not allow it/);
  });

  it('an empty file allows nothing', () => {
    expect(() => assertAllowed(['net.core.somaxconn'], file('\n'))).toThrow(/allowed: nothing/);
    expect(() => assertAllowed([], file('\n'))).not.toThrow();
  });

  it("Go's leading flags work ((?i)); a POSIX class is refused rather than read as something else", () => {
    expect(() => assertAllowed(['NET.core.somaxconn'], file('(?i)^net\\.core\\.'))).not.toThrow();
    expect(() => readAllowlist(file('^net\\.[[:alpha:]]+'))).toThrow(/POSIX classes/);
  });

  it('a line that is not a regular expression is an error naming it (7)', () => {
    expect(() => readAllowlist(file('net.(\n'))).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining('"net.("') }));
  });
});
