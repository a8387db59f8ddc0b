export { add } from './add';
export { check } from './check';
export { del } from './del';
export { gc, status } from './lifecycle';
