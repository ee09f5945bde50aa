export * from './player.js';
export * from './settings.js';
export * from './rest.js';
export * from './ogg.js';
export * from './oauth.js';
