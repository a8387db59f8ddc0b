import { CniError, ErrorCode } from '../errors';
import type { Result } from '../types';
import type { CmdArgs } from './cmd-args';

/** A chained plugin's input: prevResult, or code 7 saying the plugin cannot run on its own. */
export function requirePrevResult(cmd: CmdArgs, plugin: string): Result {
  if (!cmd.prevResult) throw new CniError(ErrorCode.InvalidNetworkConfig, `${plugin} must be called as a chained plugin: "prevResult" is missing`);
  return cmd.prevResult;
}
