import { connectUnixStream, type UnixAddress, type UnixStream } from '../ffi/unix-stream';
import type { DBusValue } from './marshal';
import { decodeMessage, encodeMethodCall, type Message, MessageType, type MethodCall, messageLength } from './message';

/** A connection to a message bus, answering one method call at a time, synchronously. */
export interface Bus {
  call(call: MethodCall): DBusValue[];
  close(): void;
}

/** An error reply: `name` is the D-Bus error name, the message its first argument. */
export class DBusError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(`${errorName}: ${message}`);
    this.name = 'DBusError';
  }
}

export const SYSTEM_BUS_DEFAULT = 'unix:path=/var/run/dbus/system_bus_socket';
const READ_CHUNK = 65536;

/**
 * The first Unix transport of a D-Bus address list (`unix:path=…` or `unix:abstract=…`,
 * values %-escaped), as DBUS_SYSTEM_BUS_ADDRESS gives it; undefined when it names none.
 */
export function unixAddressOf(addresses: string): UnixAddress | undefined {
  for (const address of addresses.split(';')) {
    const [transport, params = ''] = address.split(/:(.*)/s);
    if (transport !== 'unix') continue;
    const keys = new Map(params.split(',').map((kv) => kv.split(/=(.*)/s) as [string, string]));
    const path = percentDecoded(keys.get('path'));
    if (path) return { path };
    const abstract = percentDecoded(keys.get('abstract'));
    if (abstract) return { abstract };
  }
  return undefined;
}

/** A value's %-escapes decoded; one that is not valid UTF-8 names nothing. */
function percentDecoded(value: string | undefined): string | undefined {
  try {
    return value && decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export function systemBusAddress(env: Readonly<Record<string, string | undefined>>): UnixAddress {
  const configured = env.DBUS_SYSTEM_BUS_ADDRESS;
  const address = configured ? unixAddressOf(configured) : unixAddressOf(SYSTEM_BUS_DEFAULT);
  if (!address) throw new DBusError('org.freedesktop.DBus.Error.BadAddress', `DBUS_SYSTEM_BUS_ADDRESS ${JSON.stringify(configured)} names no unix: transport`);
  return address;
}

/** Connects, authenticates as this process's user (EXTERNAL) and says Hello. */
export function openBus(address: UnixAddress, timeoutMs: number): Bus {
  const stream = connectUnixStream(address, timeoutMs);
  try {
    authenticate(stream);
    const bus = new BusConnection(stream);
    bus.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' });
    return bus;
  } catch (err) {
    stream.close();
    throw err;
  }
}

function authenticate(stream: UnixStream): void {
  const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
  stream.write(Buffer.from(`\0AUTH EXTERNAL ${uid}\r\n`));
  let reply = '';
  while (!reply.includes('\r\n')) {
    const chunk = stream.read(256);
    if (!chunk.length) throw new DBusError('org.freedesktop.DBus.Error.AuthFailed', 'the bus closed the connection during authentication');
    reply += chunk.toString('latin1');
  }
  if (!reply.startsWith('OK ')) throw new DBusError('org.freedesktop.DBus.Error.AuthFailed', `the bus refused EXTERNAL authentication: ${reply.trim()}`);
  stream.write(Buffer.from('BEGIN\r\n'));
}

class BusConnection implements Bus {
  private serial = 0;
  private pending = Buffer.alloc(0);

  constructor(private readonly stream: UnixStream) {}

  call(call: MethodCall): DBusValue[] {
    const serial = ++this.serial;
    this.stream.write(encodeMethodCall(serial, call));
    for (;;) {
      const message = this.next();
      // signals (NameAcquired after Hello) and anything else not answering this call are skipped
      if (message.replySerial !== serial) continue;
      if (message.type === MessageType.MethodReturn) return message.body;
      if (message.type === MessageType.Error) throw new DBusError(message.errorName ?? 'unknown', String(message.body[0] ?? ''));
    }
  }

  close(): void {
    this.stream.close();
  }

  private next(): Message {
    for (;;) {
      const length = messageLength(this.pending);
      if (length !== undefined && this.pending.length >= length) {
        const message = decodeMessage(this.pending.subarray(0, length));
        this.pending = this.pending.subarray(length);
        return message;
      }
      const chunk = this.stream.read(READ_CHUNK);
      if (!chunk.length) throw new DBusError('org.freedesktop.DBus.Error.Disconnected', 'the bus closed the connection');
      this.pending = Buffer.concat([this.pending, chunk]);
    }
  }
}
