// Kept to syntax every Node since 12 parses, so an old Node reaches the message below instead of a SyntaxError.

/** The oldest Node that runs Earshot: 22.13 is the first 22.x whose node:sqlite needs no flag. */
export const MINIMUM_NODE = '22.13.0';

/**
 * One line for the user when `version` (like process.versions.node) is older than MINIMUM_NODE; undefined when
 * it is new enough.
 * @param {string} version
 * @returns {string | undefined}
 */
export function tooOldNode(version) {
  const have = version.split('.').map(Number);
  const need = MINIMUM_NODE.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] || 0;
    const b = need[i] || 0;
    if (a > b) return undefined;
    if (a < b)
      return (
        `earshot needs Node.js ${MINIMUM_NODE} or newer (it stores data with node:sqlite); this is Node.js ` +
        `${version}. Install a current LTS from https://nodejs.org and run it again.`
      );
  }
  return undefined;
}
