/**
 * Node built-ins that most runs never use, loaded on first use: each costs milliseconds to load.
 */
export const childProcess = (): typeof import('node:child_process') => require('node:child_process');
/** node:net, for the dhcp plugin and its daemon (a unix socket between them); nothing else uses it. */
export const net = (): typeof import('node:net') => require('node:net');
