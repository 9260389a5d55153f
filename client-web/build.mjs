// Bundles the page and the library for browsers (esbuild), and copies the static files.
import { build } from 'esbuild';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');
await mkdir(out, { recursive: true });
await build({
  entryPoints: {
    page: path.join(here, 'src/page/main.ts'),
    rtcgate: path.join(here, 'src/lib/index.ts'),
  },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120'],
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) {
  await cp(path.join(here, 'src/page', file), path.join(out, file));
}
