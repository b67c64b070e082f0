/** The ringcache package: the TypeScript client (`import { RingCache } from 'ringcache'`). The server is the `ringcache` command. */
export * from './client/index.js';
