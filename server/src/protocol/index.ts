export * from './errors.js';
export * from './messages.js';
export * from './messagesV2.js';
export * from './codec.js';
export * from './channelControl.js';
