// Worker threads do not inherit the TypeScript loader: register it here, then run the worker.
import { register } from 'tsx/esm/api';

register();
await import('./backup-worker.ts');
