import { openNft } from '../../lib/nft';
import { AttachmentState, stateRoot, type StateEnv } from '../../lib/state/attachment-state';

export { attachmentKey } from '../../lib/state/attachment-state';
import type { PortmapEntry } from './entries';
import { newPortMaps, type PortMaps } from './port-maps';

export const portMaps = (cmd: StateEnv): PortMaps => newPortMaps(openNft(), new AttachmentState<PortmapEntry[]>(stateRoot(cmd.env), 'portmap'));
