#!/usr/bin/env node
// `npm run bench -- NAME [ARGS]` runs bench/NAME.ts through tsx, like bin/hub.js runs the hub.
// A benchmark module default-exports `async (args: string[]) => number | void` (the exit code).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bench');
const available = fs.existsSync(benchDir)
  ? fs.readdirSync(benchDir).filter((file) => file.endsWith('.ts') && !file.startsWith('_') && !file.endsWith('.d.ts')).map((file) => file.slice(0, -3)).sort()
  : [];

const [name, ...args] = process.argv.slice(2);

if (!name || name === '--help' || name === '-h') {
  process.stderr.write(`Usage: npm run bench -- NAME [ARGS]\n\nAvailable benchmarks:\n${available.map((bench) => `  ${bench}`).join('\n') || '  (none)'}\n`);
  process.exit(name ? 0 : 1);
}
if (!available.includes(name)) {
  process.stderr.write(`bench: unknown benchmark "${name}" (available: ${available.join(', ') || 'none'})\n`);
  process.exit(1);
}

register();
try {
  const module = await import(pathToFileURL(path.join(benchDir, `${name}.ts`)).href);
  if (typeof module.default !== 'function') throw new Error(`bench/${name}.ts does not default-export a function (args: string[]) => Promise<number | void>.`);
  const code = await module.default(args);
  process.exit(typeof code === 'number' ? code : 0);
} catch (error) {
  // Bad arguments are one line; anything else keeps its stack.
  const usage = error instanceof Error && (error.name === 'UsageError' || String(error.code ?? '').startsWith('ERR_PARSE_ARGS'));
  process.stderr.write(`bench ${name}: ${error instanceof Error ? (usage ? error.message : error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
