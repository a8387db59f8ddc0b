export * from './addresses';
export * from './links';
export * from './socket';
