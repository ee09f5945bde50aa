import type { KeyScanner, Keys } from '../keys.js';
import type { ChaosOptions } from '../options.js';

/** What every scenario of one run shares. */
export interface SuiteContext extends ChaosOptions {
  readonly keys: Keys;
  readonly scanner: KeyScanner;
  /** Progress lines for a terminal (stderr); undefined in tests. */
  readonly progress?: (line: string) => void;
}
