import type { ProxyFile, ProxyFileSets } from '../proxy/files.js';

/** Where cfn-init writes every file; earshot-apply installs them from here (and only what changed). */
export const STAGING_DIR = '/etc/earshot/staged';

/** The config sets the user data and cfn-hup run: NAT first, then the proxy; both again on every update. */
export const CONFIG_SETS = { nat: ['nat'], proxy: ['proxy'], update: ['nat', 'proxy'] } as const;

function staged(file: ProxyFile): [string, Record<string, string>] {
  if (!/^0[0-7]{3}$/.test(file.mode)) throw new Error(`${file.path}: mode ${file.mode} is not like 0644`);
  return [
    `${STAGING_DIR}${file.path}`,
    { content: file.content, mode: `00${file.mode}`, owner: 'root', group: 'root' },
  ];
}

const apply = { command: `bash ${STAGING_DIR}/usr/local/sbin/earshot-apply` };

/**
 * The `AWS::CloudFormation::Init` metadata of the proxy instance. Metadata changes are applied in place (cfn-hup,
 * then earshot-apply): unlike user data, they neither stop nor replace the instance.
 */
export function cloudFormationInit(sets: ProxyFileSets): Record<string, unknown> {
  const paths = [...sets.nat, ...sets.proxy].map((f) => f.path);
  const twice = paths.find((p, i) => paths.indexOf(p) !== i);
  if (twice) throw new Error(`${twice} is in the instance's files twice`);
  for (const name of sets.packages) {
    if (!/^[a-z0-9][a-z0-9._+-]*$/.test(name)) throw new Error(`"${name}" is not a package name`);
  }
  return {
    configSets: CONFIG_SETS,
    nat: {
      files: Object.fromEntries(sets.nat.map(staged)),
      commands: { '10-apply': apply },
    },
    proxy: {
      files: Object.fromEntries(sets.proxy.map(staged)),
      commands: {
        '10-packages': {
          command: `bash ${STAGING_DIR}/usr/local/sbin/earshot-packages ${sets.packages.join(' ')}`,
        },
        '20-apply': apply,
      },
    },
  };
}
