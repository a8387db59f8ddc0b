/**
 * What the suite uses of the `netlink` package, and the only module that names its files: the
 * package has no exports map, and its index loads every protocol it knows (generic netlink,
 * nl80211, WireGuard) where the suite needs rtnetlink alone.
 */
export { Flags, FlagsGet, FlagsNew } from 'netlink/dist/constants';
export { createNetlink, NetlinkSocket } from 'netlink/dist/netlink';
export * as ifla from 'netlink/dist/rt/ifla';
export { createRtNetlink, RtNetlinkSocket } from 'netlink/dist/rt/rt';
export { formatLinkMessage, formatTcMessage, MessageType, type TcMessage } from 'netlink/dist/rt/structs';
export { AttrStream, type StreamData } from 'netlink/dist/structs';
