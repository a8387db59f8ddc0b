import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';

export { attachmentKey } from '../../lib/state/attachment-state';

/** A host device as it was before ADD moved it into a container: what DEL puts back. */
export interface DeviceState {
  name: string;
  /** Its alias before ADD set it to its name (the reference keeps the host name there). */
  alias?: string;
  mtu?: number;
  mac?: string;
  up: boolean;
  /** Its addresses (the move drops them), IPv6 link-local ones left out: the kernel makes those again. */
  addresses: string[];
}

/** What host-device keeps per attachment, written before the device leaves the host. */
export interface HostDeviceRecord {
  netns: string;
  device: DeviceState;
}

export const hostDeviceState = (cmd: StateEnv) => new AttachmentState<HostDeviceRecord>(stateRoot(cmd.env), 'host-device');
