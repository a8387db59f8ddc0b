export * from './convert';
export * from './go-keys';
export * from './netconf';
export * from './parse';
export * from './result';
export * from './version';
export * from './conflist';
