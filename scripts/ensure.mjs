// Shared by `npm start` and `npm test`: install what is missing, then build. Plain Node, no deps,
// because it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const REQUIRED = [
  'node_modules/typescript/package.json',
  'node_modules/node-datachannel/package.json',
  'node_modules/@playwright/test/package.json',
  'node_modules/esbuild/package.json',
  'node_modules/rtcgate-server/package.json',
];

function installNeeded() {
  const marker = path.join(repo, 'node_modules/.package-lock.json');
  if (!existsSync(marker)) return 'node_modules is missing';
  if (REQUIRED.some((p) => !existsSync(path.join(repo, p)))) return 'a dependency is missing';
  const lock = path.join(repo, 'package-lock.json');
  if (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000) {
    return 'package-lock.json changed since the last install';
  }
  return undefined;
}

export function ensureInstalled() {
  const why = installNeeded();
  if (!why) return;
  console.log(`rtcgate: installing dependencies (${why})…`);
  const code = run(npm, ['install', '--no-audit', '--no-fund']);
  if (code !== 0) throw new Error(`npm install failed with exit code ${code}`);
}

export function ensureBuilt() {
  const code = run(npm, ['run', '--silent', 'build']);
  if (code !== 0) throw new Error(`build failed with exit code ${code}`);
}
