export * from './address';
export * from './prefix';
