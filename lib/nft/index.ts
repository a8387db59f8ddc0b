export * from './runner';
export * from './table';
