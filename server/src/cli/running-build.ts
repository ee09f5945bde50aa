import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `earshot doctor`'s line on what runs: the repo's bundle, the sources through tsx (the launcher's choice when a
 * source changed since the bundle was built, see bin/fresh-bundle.js), or the published package's build. Told from
 * where this module was loaded from.
 */
export function describeBuild(moduleUrl: string = import.meta.url): string {
  const path = fileURLToPath(moduleUrl);
  if (/[/\\]dist[/\\]bundle[/\\]/.test(path)) return `the bundle ${dirname(path)} (npm run build made it)`;
  if (path.endsWith('.ts')) {
    return (
      'the TypeScript sources through tsx, which starts slower: a source changed since the bundle was built, or there is ' +
      'none (npm run build makes one, and the earshot command then starts it)'
    );
  }
  return `the build in ${dirname(path)}`;
}
