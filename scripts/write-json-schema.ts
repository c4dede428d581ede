/**
 * Writes schema/composure.schema.json from the zod schema (run after changing
 * src/config/schema.ts): `npx tsx scripts/write-json-schema.ts`. With
 * `--check` it writes nothing and exits 1 when the committed file is stale.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composureJsonSchema } from '../src/config/json-schema';

/** The repository root: the nearest directory with a package.json (works from scripts/ and dist/scripts/). */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

const out = path.join(repoRoot(), 'schema', 'composure.schema.json');
const text = `${JSON.stringify(composureJsonSchema(), null, 2)}\n`;

if (process.argv.includes('--check')) {
  const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (current !== text) {
    console.error(`${out} is stale: run npx tsx scripts/write-json-schema.ts`);
    process.exit(1);
  }
  console.log(`${out} is up to date`);
} else {
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
