export * from './hub.js';
export * from './canonical.js';
