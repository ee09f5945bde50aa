// @modelcontextprotocol/conformance 0.1.16 imports `globSync` from node:fs, which Node 20 lacks, so it will
// not even load there. It uses globSync only in `tier-check`, never in `server`: on Node 20, give its
// imports of fs a globSync that says so. Loaded with `node --import` by conformance.test.ts.
import fs from 'node:fs';
import { register } from 'node:module';

if (!('globSync' in fs)) {
  const fsShim = [
    "import fs from 'node:fs';",
    "export * from 'node:fs';",
    'export default fs;',
    "export function globSync() { throw new Error('fs.globSync needs Node 22'); }",
  ].join('\n');
  const hooks = `
    const shim = ${JSON.stringify(`data:text/javascript,${encodeURIComponent(fsShim)}`)};
    export async function resolve(specifier, context, next) {
      const fromSuite = context.parentURL?.includes('/@modelcontextprotocol/conformance/');
      if (fromSuite && (specifier === 'fs' || specifier === 'node:fs')) return { url: shim, shortCircuit: true };
      return next(specifier, context);
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
