export * from './cmd-args';
export * from './cni-args';
export * from './io';
export * from './run';
export * from './lazy';
export * from './define';
export * from './chained';
