// TCP throughput between two namespaces for the bandwidth tests, run inside one with `ip netns exec`.
//   node throughput.mjs sink <port>                                  prints "listening", takes one connection, then prints
//                                                                    {"bytes":N,"seconds":S} (first byte to last) and exits
//   node throughput.mjs send <host> <port> <bytes> [localAddress]    sends <bytes> as fast as TCP takes them, then closes
import { connect, createServer } from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const giveUp = setTimeout(() => process.exit(2), 60_000);

if (mode === 'sink') {
  const server = createServer((s) => {
    let bytes = 0;
    let first;
    let last;
    s.on('data', (chunk) => {
      last = process.hrtime.bigint();
      first ??= last;
      bytes += chunk.length;
    });
    s.on('end', () => {
      const seconds = first === undefined ? 0 : Number(last - first) / 1e9;
      process.stdout.write(`${JSON.stringify({ bytes, seconds })}\n`, () => process.exit(0));
    });
    server.close();
  });
  server.listen({ port: Number(args[0]), host: '::', ipv6Only: false }, () => console.log('listening'));
} else {
  const [host, port, total, localAddress] = [args[0], Number(args[1]), Number(args[2]), args[3]];
  const block = Buffer.alloc(64 * 1024, 0x5a);
  let sent = 0;
  const s = connect({ host, port, localAddress }, () => {
    const pump = () => {
      while (sent < total) {
        const n = Math.min(block.length, total - sent);
        sent += n;
        if (!s.write(n === block.length ? block : block.subarray(0, n))) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  s.on('close', () => (clearTimeout(giveUp), process.exit(0)));
  s.on('error', (err) => (console.error(err.message), process.exit(1)));
}
