// A tiny TCP/UDP echo for traffic tests, run inside a namespace with `ip netns exec`.
//   node echo.mjs serve <tcp|udp> <port> <name> [address]   answers "<name> saw <client address>" (on every address by default)
//   node echo.mjs ask <tcp|udp> <host> <port>     prints the answer; exits 1 after 1.5 s without one
//   node echo.mjs stream udp <host> <port>        from one source port, sends every 100 ms for ever and prints each answer (a statsd or syslog client)
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

const [mode, proto, a, b] = process.argv.slice(2);
const unmapped = (addr) => addr.replace(/^::ffff:/, '');

if (mode === 'serve') {
  const [port, name, bind] = [Number(a), b, process.argv[6]];
  if (proto === 'tcp') {
    createServer((s) => s.end(`${name} saw ${unmapped(s.remoteAddress)}`)).listen({ port, host: bind ?? '::', ipv6Only: false }, () => console.log('listening'));
  } else {
    const sock = createSocket({ type: bind && !bind.includes(':') ? 'udp4' : 'udp6', ipv6Only: false });
    sock.on('message', (_m, r) => sock.send(`${name} saw ${unmapped(r.address)}`, r.port, r.address));
    sock.bind(port, bind ?? '::', () => console.log('listening'));
  }
} else if (mode === 'stream') {
  const [host, port] = [a, Number(b)];
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (m) => console.log(String(m)));
  setInterval(() => sock.send('hi', port, host), 100);
} else {
  const [host, port] = [a, Number(b)];
  setTimeout(() => process.exit(1), 1500);
  if (proto === 'tcp') {
    let out = '';
    const s = connect({ host, port }, () => undefined);
    s.on('data', (d) => (out += d));
    s.on('end', () => (console.log(out), process.exit(0)));
    s.on('error', () => process.exit(1));
  } else {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.on('message', (m) => (console.log(String(m)), process.exit(0)));
    sock.send('hi', port, host);
  }
}
