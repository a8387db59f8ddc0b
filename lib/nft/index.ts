export * from './runner';
export * from './table';
export * from './set';
export * from './elements';
export * from './owned-elements';
export * from './usable';
export * from './structure';
