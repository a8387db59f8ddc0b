/** The suite's version, printed by every plugin run without CNI_COMMAND. Kept in step with package.json. */
export const VERSION = '0.1.0';
