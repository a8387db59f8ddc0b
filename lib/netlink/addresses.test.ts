import { describe, expect, it } from 'vitest';
import { formatIP, parseIP } from '../ip';
import { broadcastFor } from './addresses';

const brd = (ip: string, length: number) => {
  const b = broadcastFor(parseIP(ip)!, length);
  return b && formatIP(b);
};

describe('broadcastFor', () => {
  it('is the last address of the subnet for IPv4 prefixes shorter than /31', () => {
    expect(brd('10.67.0.2', 24)).toBe('10.67.0.255');
    expect(brd('10.1.2.3', 16)).toBe('10.1.255.255');
    expect(brd('172.16.5.9', 12)).toBe('172.31.255.255');
    expect(brd('192.0.2.1', 30)).toBe('192.0.2.3');
    expect(brd('192.0.2.1', 0)).toBe('255.255.255.255');
  });

  it('is absent for /31 and /32 (RFC 3021) and for IPv6', () => {
    expect(brd('192.0.2.0', 31)).toBeUndefined();
    expect(brd('192.0.2.1', 32)).toBeUndefined();
    expect(brd('fd00::2', 64)).toBeUndefined();
  });
});
