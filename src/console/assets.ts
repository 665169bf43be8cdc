// The console's static files: built from ui/console by scripts/build-console.js (esbuild) into dist/console-ui,
// read once, and served with the console's security headers. Only these names are served: no path is mapped to
// the file system.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** dist/src/console → dist/console-ui. */
export const ASSET_DIRECTORY = fileURLToPath(new URL('../../console-ui/', import.meta.url));

export function loadAssets(directory = ASSET_DIRECTORY): ReadonlyMap<string, Asset> | undefined {
  const assets = new Map<string, Asset>();
  try {
    for (const [name, type] of Object.entries(FILES)) assets.set(name, { type, body: readFileSync(`${directory}${name}`) });
  } catch {
    return undefined;
  }
  return assets;
}
