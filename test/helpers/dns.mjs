// A minimal DNS client and responder for tests, run inside a namespace with `ip netns exec`.
//   node dns.mjs ask <server> <name> <A|AAAA>       prints {"rcode":0,"answers":["10.0.0.2"]}; exits 1 without an answer in 2 s
//   node dns.mjs serve <address> <name> <ipv4>       answers A <name> -> <ipv4> (TTL 60), NXDOMAIN for anything else
//   node dns.mjs time <server> <count> <name>...     asks A for <count> names taken round-robin, one at a time; prints the
//                                                    latencies in ms as JSON, exits 1 on a query without an answer
import { createSocket } from 'node:dgram';

const TYPES = { A: 1, AAAA: 28 };
const [mode, a, b, c] = process.argv.slice(2);

function encodeName(name) {
  return Buffer.concat([
    ...name
      .split('.')
      .filter(Boolean)
      .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

/** Reads a (possibly compressed) name at `offset`; returns [name, offset after it]. */
function readName(msg, offset) {
  const labels = [];
  let end;
  for (;;) {
    const len = msg[offset];
    if (len === 0) return [labels.join('.'), end ?? offset + 1];
    if ((len & 0xc0) === 0xc0) {
      end ??= offset + 2;
      offset = msg.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString());
    offset += len + 1;
  }
}

function formatAddress(type, data) {
  if (type === 1) return [...data].join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(data.readUInt16BE(i).toString(16));
  return groups
    .join(':')
    .replace(/\b(?:0:){2,}/, ':')
    .replace(/^0::|:::/, '::');
}

function query(id, name, type) {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, encodeName(name), Buffer.from([0, type, 0, 1])]);
}

if (mode === 'time') {
  const [server, count, names] = [a, Number(b), process.argv.slice(5)];
  const sock = createSocket(server.includes(':') ? 'udp6' : 'udp4');
  const latencies = [];
  let started = 0n;
  let timer;
  const next = () => {
    if (latencies.length === count) return (console.log(JSON.stringify(latencies)), process.exit(0));
    timer = setTimeout(() => process.exit(1), 2000);
    started = process.hrtime.bigint();
    sock.send(query(latencies.length % 65536, names[latencies.length % names.length], 1), 53, server);
  };
  sock.on('message', (msg) => {
    if (msg.readUInt16BE(0) !== latencies.length % 65536) return;
    clearTimeout(timer);
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    next();
  });
  next();
} else if (mode === 'ask') {
  const [server, name, type] = [a, b, TYPES[c ?? 'A']];
  const id = Math.floor(Math.random() * 65535);
  const sock = createSocket(server.includes(':') ? 'udp6' : 'udp4');
  setTimeout(() => process.exit(1), 2000);
  sock.on('message', (msg) => {
    if (msg.readUInt16BE(0) !== id) return;
    const rcode = msg.readUInt16BE(2) & 0xf;
    const answerCount = msg.readUInt16BE(6);
    let offset = readName(msg, 12)[1] + 4;
    const answers = [];
    for (let i = 0; i < answerCount; i++) {
      offset = readName(msg, offset)[1];
      const rtype = msg.readUInt16BE(offset);
      const length = msg.readUInt16BE(offset + 8);
      if (rtype === type) answers.push(formatAddress(rtype, msg.subarray(offset + 10, offset + 10 + length)));
      offset += 10 + length;
    }
    console.log(JSON.stringify({ rcode, answers }));
    process.exit(0);
  });
  sock.send(query(id, name, type), 53, server);
} else if (mode === 'serve') {
  const [address, served, ip] = [a, b.toLowerCase(), c];
  const sock = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (msg, remote) => {
    const [name, end] = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const question = msg.subarray(12, end + 4);
    const hit = name.toLowerCase() === served && qtype === 1;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | (name.toLowerCase() === served ? 0 : 3), 2); // response, RD+RA, NOERROR or NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(hit ? 1 : 0, 6);
    const answer = hit ? Buffer.concat([Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(ip.split('.').map(Number))]) : Buffer.alloc(0);
    sock.send(Buffer.concat([header, question, answer]), remote.port, remote.address);
  });
  sock.bind(53, address, () => console.log('listening'));
}
