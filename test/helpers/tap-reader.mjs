// Attaches to an existing tap device in the namespace it runs in (as a VM manager would), prints
// "ready", then reads frames until an ARP request and prints "arp who-has <address>".
// Usage: node tap-reader.mjs <tap name> [multi_queue]
import { openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

const koffi = createRequire(import.meta.url)('koffi');
const ioctl = koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long request, ...)');
const [name, mode] = process.argv.slice(2);
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFF_MULTI_QUEUE = 0x0100;
const fd = openSync('/dev/net/tun', 'r+');
const ifr = Buffer.alloc(40);
ifr.write(name, 0);
ifr.writeUInt16LE(IFF_TAP | IFF_NO_PI | (mode === 'multi_queue' ? IFF_MULTI_QUEUE : 0), 16);
if (ioctl(fd, 0x400454ca, 'void *', ifr) !== 0) {
  console.error(`TUNSETIFF ${name}: errno ${koffi.errno()}`);
  process.exit(1);
}
console.log('ready');
const frame = Buffer.alloc(65536);
for (;;) {
  const n = readSync(fd, frame);
  // Ethernet type at 12; ARP opcode 1 (request) at 20, target protocol address at 38
  if (n >= 42 && frame.readUInt16BE(12) === 0x0806 && frame.readUInt16BE(20) === 1) {
    console.log(`arp who-has ${[...frame.subarray(38, 42)].join('.')}`);
    process.exit(0);
  }
}
