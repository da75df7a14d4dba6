export {startBootstrapServer} from './bootstrap/server.js';
export type {BootstrapServer, BootstrapServerOptions} from './bootstrap/server.js';
export {createBootstrapRouter} from './bootstrap/router.js';
export {BootstrapStore} from './bootstrap/store.js';
export type {Contact} from './bootstrap/store.js';
