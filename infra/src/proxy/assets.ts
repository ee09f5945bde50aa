import { readFileSync } from 'node:fs';

/** `infra/proxy/`: the templates, scripts and units the instance gets, from `infra/src/proxy` (tests, tsx). */
export const proxyAssetsDir = new URL('../../proxy/', import.meta.url);

export function asset(name: string): string {
  return readFileSync(new URL(name, proxyAssetsDir), 'utf8');
}
