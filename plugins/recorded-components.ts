import { masqueradeComponent } from '../lib/iface/masquerade';
import type { RecordedComponent } from '../lib/state/recorded-component';
import { spoofCheckComponent } from './bridge/attachment';
import { firewallComponent } from './firewall/attachment';
import { portMapsComponent } from './portmap/attachment';

/** Every component that records its kernel entries per attachment (see RecordedComponent), in the order the tools report them. */
export const RECORDED_COMPONENTS: readonly RecordedComponent[] = [masqueradeComponent, spoofCheckComponent, portMapsComponent, firewallComponent];
