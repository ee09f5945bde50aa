#!/usr/bin/env node
// npm run bench -- [--runs N] [--only a,b] [--quick] [--json FILE]; see options.ts for the rest.
import { runCli } from './cli.js';

runCli(process.argv.slice(2), { out: (line) => process.stdout.write(`${line}\n`), pinSelf: true }).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
