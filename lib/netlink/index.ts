export * from './addresses';
export * from './links';
export { macToBytes } from './encode';
export * from './socket';
export * from './routes';
export * from './bridge-port';
export * from './bridge-vlan';
export { deleteConntrackToPort } from './conntrack';
export * from './rules';
