// Bundles the page and the library for browsers (esbuild), and copies the static files. A file is
// replaced (atomically, by rename) only when its content changed, so running the build while a
// server serves client-web/dist never hands a browser half a file.
import { build } from 'esbuild';
import { Buffer } from 'node:buffer';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');
await mkdir(out, { recursive: true });

async function writeIfChanged(file, contents) {
  const old = await readFile(file).catch(() => undefined);
  if (old && Buffer.compare(old, Buffer.from(contents)) === 0) return;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, contents);
  await rename(tmp, file);
}

const result = await build({
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
  write: false,
  logLevel: 'warning',
});
for (const file of result.outputFiles) await writeIfChanged(file.path, file.contents);
for (const name of ['index.html', 'style.css']) {
  await writeIfChanged(path.join(out, name), await readFile(path.join(here, 'src/page', name)));
}
