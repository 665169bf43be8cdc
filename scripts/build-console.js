// Builds the web console (ui/console, Preact) into dist/console-ui with esbuild: one script, one style sheet and
// the page, all served by Warden itself (no CDN). Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'console-ui');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'ui', 'console', 'app.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(join(root, 'ui', 'console', 'app.css'), join(out, 'app.css'));
for (const name of ['index.html', 'favicon.svg']) copyFileSync(join(root, 'ui', 'console', name), join(out, name));
