import { CniError, ErrorCode } from '../errors';

/** libcni's rule for container ids and network names (pkg/utils/utils.go). */
const isValidId = (text: string): boolean => /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(text);

export function validateContainerId(id: string): void {
  if (!id) throw new CniError(ErrorCode.UnknownContainer, 'missing containerID (CNI_CONTAINERID)');
  if (!isValidId(id)) {
    throw new CniError(ErrorCode.InvalidEnvironment, `invalid characters in containerID (CNI_CONTAINERID) ${JSON.stringify(id)}`);
  }
}

/** Network names become directory names (host-local's store), so they must be path-safe. */
export function validateNetworkName(name: string): void {
  if (!name) throw new CniError(ErrorCode.InvalidNetworkConfig, 'missing network name (field "name")');
  if (!isValidId(name) || name.length > 255) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `invalid network name (field "name") ${JSON.stringify(name)}: use letters, digits, "_", "." and "-", starting with a letter or digit`,
    );
  }
}

/** Linux interface-name rules (dev_valid_name): 1-15 bytes, not "." or "..", no "/", ":" or white space. */
export function validateInterfaceName(ifname: string): void {
  const field = 'interface name (CNI_IFNAME)';
  if (!ifname) throw new CniError(ErrorCode.InvalidEnvironment, `${field} is empty`);
  if (Buffer.byteLength(ifname) > 15) {
    throw new CniError(ErrorCode.InvalidEnvironment, `${field} ${JSON.stringify(ifname)} is longer than 15 characters`);
  }
  if (ifname === '.' || ifname === '..') throw new CniError(ErrorCode.InvalidEnvironment, `${field} ${JSON.stringify(ifname)} is not allowed`);
  if ([...ifname].some((c) => c === '/' || c === ':' || c.trim() === '')) {
    throw new CniError(ErrorCode.InvalidEnvironment, `${field} ${JSON.stringify(ifname)} contains "/", ":" or white space`);
  }
}
