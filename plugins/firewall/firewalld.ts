import { openBus, systemBusAddress, DBusError, type Bus } from '../../lib/dbus/bus';
import type { MethodCall } from '../../lib/dbus/message';
import { CniError, Errno, ErrorCode, invalidField, SyscallError } from '../../lib/errors';
import { log } from '../../lib/log';

/** firewalld's zone sources (runtime configuration), over one connection to the system bus. */
export interface FirewalldZones {
  /** The zone `source` ("10.88.0.2/32") is bound to, or undefined. */
  zoneOf(source: string): string | undefined;
  /** Binds the source to the zone; already bound to it is fine, bound to another zone is 132. */
  addSource(zone: string, source: string): void;
  /** Unbinds it; whatever firewalld refuses (a source gone, moved by someone else) is logged and left alone. */
  removeSource(zone: string, source: string): void;
}

export interface Firewalld {
  /** Runs `work` with firewalld's zones, or with undefined when firewalld is not on the system bus. */
  use<T>(work: (zones: FirewalldZones | undefined) => T): T;
}

const FIREWALLD = 'org.fedoraproject.FirewallD1';
const ZONE = { destination: FIREWALLD, path: '/org/fedoraproject/FirewallD1', interface: `${FIREWALLD}.zone` };
const DBUS = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };
// adding a source makes firewalld rewrite its ruleset: as long as iptables' lock wait
const TIMEOUT_MS = 10_000;
const NO_BUS = new Set<number>([Errno.ENOENT, Errno.ECONNREFUSED, Errno.EACCES, Errno.ENOTDIR]);

/** The system bus of `env` (DBUS_SYSTEM_BUS_ADDRESS, else /var/run/dbus/system_bus_socket). */
export function systemFirewalld(env: Readonly<Record<string, string | undefined>>): Firewalld {
  return {
    use(work) {
      const bus = connect(env);
      try {
        const owned = bus?.call({ ...DBUS, member: 'NameHasOwner', signature: 's', body: [FIREWALLD] })[0] === true;
        return work(bus && owned ? zonesOver(bus) : undefined);
      } catch (err) {
        throw translate(err);
      } finally {
        bus?.close();
      }
    },
  };
}

/** No bus (no socket, nobody listening) means no firewalld, as the reference decides. */
function connect(env: Readonly<Record<string, string | undefined>>): Bus | undefined {
  try {
    return openBus(systemBusAddress(env), TIMEOUT_MS);
  } catch (err) {
    if (err instanceof SyscallError && NO_BUS.has(err.errno)) {
      log.debug('no system bus, so no firewalld', { error: err.message });
      return undefined;
    }
    throw translate(err);
  }
}

/** firewalld's own error code, the first word of its exception's message ("ZONE_CONFLICT: …"). */
const firewalldCode = (err: unknown): string | undefined =>
  err instanceof DBusError && err.errorName === `${FIREWALLD}.Exception` ? /^(\w+)/.exec(err.message.slice(err.errorName.length + 2))?.[1] : undefined;

function zonesOver(bus: Bus): FirewalldZones {
  const zoneCall = (member: string, body: string[]): MethodCall => ({ ...ZONE, member, signature: 's'.repeat(body.length), body });
  return {
    zoneOf(source) {
      const zone = bus.call(zoneCall('getZoneOfSource', [source]))[0];
      return typeof zone === 'string' && zone !== '' ? zone : undefined;
    },
    addSource(zone, source) {
      try {
        bus.call(zoneCall('addSource', [zone, source]));
      } catch (err) {
        const code = firewalldCode(err);
        if (code === 'ZONE_ALREADY_SET') return;
        if (code === 'INVALID_ZONE') throw invalidField('firewalldZone', `firewalld has no zone ${JSON.stringify(zone)}`);
        if (code === 'ZONE_CONFLICT') {
          throw new CniError(ErrorCode.FirewallFailure, `firewalld: source ${source} is bound to zone ${JSON.stringify(this.zoneOf(source))}, not ${JSON.stringify(zone)}`);
        }
        throw err;
      }
    },
    removeSource(zone, source) {
      try {
        bus.call(zoneCall('removeSource', [zone, source]));
      } catch (err) {
        // whatever firewalld says (gone, moved, no such zone), the source is not ours to remove any more; only the bus failing is an error
        const code = firewalldCode(err);
        if (code === undefined) throw err;
        if (code !== 'UNKNOWN_SOURCE') log.warn('firewalld did not remove a source', { zone, source, error: (err as Error).message });
      }
    },
  };
}

function translate(err: unknown): unknown {
  if (err instanceof CniError) return err;
  if (err instanceof DBusError || err instanceof SyscallError) return new CniError(ErrorCode.FirewallFailure, `firewalld (D-Bus): ${err.message}`);
  return err;
}
