import { openNft, strayElements } from '../../lib/nft';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';
import { recordedComponent } from '../../lib/state/recorded-component';

export { attachmentKey } from '../../lib/state/attachment-state';
import type { PortmapEntry } from './entries';
import { newPortMaps, portmapSpec, type PortMaps } from './port-maps';
import { dnatMapSets } from './rules';

export const portMaps = (cmd: StateEnv): PortMaps => newPortMaps(openNft(), new AttachmentState<PortmapEntry[]>(stateRoot(cmd.env), 'portmap'));

export const portMapsComponent = recordedComponent<PortmapEntry>({
  name: 'port mappings',
  reapplyKey: 'portmap',
  open: portMaps,
  strays: (owned) => strayElements(openNft(), owned, portmapSpec, dnatMapSets()),
  shown: {
    as: 'ports',
    text: (owned, key, e) => {
      if (e.kind !== 'dnat') return undefined;
      // another attachment of the same container gets the port's traffic until it is deleted
      const standby = owned.standsBy(key, e) ? ' (standby)' : '';
      return `${e.protocol} ${e.hostIP ?? (e.family === 4 ? '0.0.0.0' : '[::]')}:${e.hostPort} -> ${e.containerIP}:${e.containerPort}${standby}`;
    },
  },
});
