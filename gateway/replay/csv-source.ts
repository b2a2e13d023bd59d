/**
 * Streams parsed CSV batches from a worker thread (csv-worker.ts) to `onBatch`, in file order.
 */
import { Worker } from 'node:worker_threads';
import { CsvRowError, type RowBatch } from './csv-parser.ts';

const READER_HEAP = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 };

export async function readBatches(path: string, sensors: string[], smoke: boolean[], onBatch: (b: RowBatch) => void): Promise<void> {
  // From sources the worker needs the TypeScript loader registered (the .mjs entry does it);
  // from the compiled build (`npm run build`, dist/) it is plain JavaScript.
  const entry = import.meta.url.endsWith('.js') ? './csv-worker.js' : './csv-worker-entry.mjs';
  // The reader holds a chunk, a batch and its sensor index, never the file; a small heap makes V8
  // collect early (10⁶ bad rows: 155 MB peak RSS with these limits, 177 MB without).
  const worker = new Worker(new URL(entry, import.meta.url), { workerData: { path, sensors, smoke }, resourceLimits: READER_HEAP });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; batch?: RowBatch; line?: number | null; message?: string }) => {
        try {
          if (m.type === 'batch') {
            onBatch(m.batch!);
            worker.postMessage('ack');
          } else if (m.type === 'end') resolve();
          else reject(m.line ? new CsvRowError(m.line, m.message!.replace(/^line \d+: /, '')) : new Error(m.message));
        } catch (e) {
          reject(e);
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`CSV reader stopped (exit ${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}
