import { masqueradeComponent } from '../lib/iface/masquerade';
import type { RecordedComponent } from '../lib/state/recorded-component';
import { spoofCheckComponent } from './bridge/records';
import { firewallComponent } from './firewall/records';
import { portMapsComponent } from './portmap/records';

/** Every component that records its kernel entries per attachment (see RecordedComponent), in the order the tools report them. */
export const RECORDED_COMPONENTS: readonly RecordedComponent[] = [masqueradeComponent, spoofCheckComponent, portMapsComponent, firewallComponent];
