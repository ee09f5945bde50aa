#!/usr/bin/env node
// Measures the console's first load: gzipped JS (and CSS) that web/dist/index.html pulls in, plus every other
// .js file in dist. Exits 1 when gzipped JS passes the budget. Prints one JSON line for tests and CI logs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const JS_BUDGET_BYTES = 60 * 1024;
const dist = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));

/** @param {string} dir @returns {string[]} */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** @type {string[]} */
let all;
try {
  all = files(dist);
} catch {
  console.error(`No build at ${dist}: run npm run build first.`);
  process.exit(2);
}
const gzipped = (/** @type {string} */ path) => gzipSync(readFileSync(path), { level: 9 }).length;
const js = all.filter((path) => /\.m?js$/.test(path));
const css = all.filter((path) => path.endsWith('.css'));
const result = {
  jsGzipBytes: js.reduce((sum, path) => sum + gzipped(path), 0),
  cssGzipBytes: css.reduce((sum, path) => sum + gzipped(path), 0),
  jsBudgetBytes: JS_BUDGET_BYTES,
  files: Object.fromEntries([...js, ...css].map((path) => [relative(dist, path), gzipped(path)])),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
if (result.jsGzipBytes > JS_BUDGET_BYTES) {
  console.error(
    `Console JS is ${result.jsGzipBytes} bytes gzipped, over the ${JS_BUDGET_BYTES}-byte budget.`,
  );
  process.exit(1);
}
