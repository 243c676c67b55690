export * from './hub.js';
export * from './canonical.js';
export * from './webhooks.js';
export * from './golden.js';
export * from './rollups.js';
