import { version } from '../package.json';

/** The suite's version, printed by every plugin run without CNI_COMMAND: package.json's, inlined by the bundler. */
export const VERSION: string = version;
