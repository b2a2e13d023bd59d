/** Types of scripts/build-panel.mjs (a plain ES module so that `npm install` runs it without a loader). */
export interface PanelManifest {
  inputs: string;
  built_at: string;
  files: { name: string; bytes: number; gzip_bytes: number; br_bytes: number }[];
  total_bytes: number;
  total_gzip_bytes: number;
  total_br_bytes: number;
  limit_gzip_bytes: number;
}
export declare const PAGE_SRC: string;
export declare const PAGE_OUT: string;
export declare const WEIGHT_LIMIT: number;
export declare class PanelBuildError extends Error {
  code: 'no_esbuild' | 'too_heavy' | 'bundle' | 'lock_timeout';
}
export declare function inputsHash(): string;
export declare function readManifest(out?: string): PanelManifest | null;
export declare function describe(m: PanelManifest): string;
export declare function buildPanel(o?: { out?: string; force?: boolean }): Promise<{ manifest: PanelManifest; built: boolean }>;
