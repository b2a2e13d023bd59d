// Worker threads do not inherit the TypeScript loader: register it here, then run the worker
// (as gateway/config/config-worker-entry.mjs does).
import { register } from 'tsx/esm/api';

register();
await import('./flood-watch.ts');
