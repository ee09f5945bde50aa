/** The proxy instance's user data: a constant first-boot script (everything that changes is in files.ts). */
import { asset } from './assets.js';
import { renderTemplate } from './template.js';

export interface UserDataOptions {
  /** Stack name, region and the instance's logical id, for cfn-init and cfn-signal (CDK tokens are fine). */
  readonly stack: string;
  readonly region: string;
  readonly resource: string;
  /** Size of the swap file: room for dnf on 512 MB, and it must fit on the root volume. */
  readonly swapMiB: number;
}

export function renderUserData(o: UserDataOptions): string {
  if (!Number.isInteger(o.swapMiB) || o.swapMiB < 256 || o.swapMiB > 4096) {
    throw new Error(`swapMiB must be an integer from 256 to 4096, got ${o.swapMiB}`);
  }
  const text = renderTemplate(asset('user-data.sh.template'), {
    STACK: o.stack,
    REGION: o.region,
    RESOURCE: o.resource,
    SWAP_MIB: String(o.swapMiB),
  });
  return `${text.trimEnd()}\n`;
}
