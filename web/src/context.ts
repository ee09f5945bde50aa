import type { Model, UserSettings, Voice } from '@earshot/protocol';
import type { Api } from './api.js';
import type { ConsoleConfig } from './config.js';
import type { Player } from './player/player.js';

/** What every view gets: the API, the player, and the user's settings kept current from the server. */
export class ConsoleContext {
  settings: UserSettings | null = null;
  user = '';
  engine = '';
  private voicesCache: Promise<Voice[]> | null = null;
  private modelsCache: Promise<Model[]> | null = null;
  private readonly settingsListeners = new Set<(settings: UserSettings) => void>();

  constructor(
    readonly config: ConsoleConfig,
    readonly api: Api,
    readonly player: Player,
    readonly key: string,
  ) {}

  voices(): Promise<Voice[]> {
    this.voicesCache ??= this.api.voices().catch((error: unknown) => {
      this.voicesCache = null;
      throw error;
    });
    return this.voicesCache;
  }

  models(): Promise<Model[]> {
    this.modelsCache ??= this.api.models().catch((error: unknown) => {
      this.modelsCache = null;
      throw error;
    });
    return this.modelsCache;
  }

  onSettings(listener: (settings: UserSettings) => void): void {
    this.settingsListeners.add(listener);
    if (this.settings) listener(this.settings);
  }

  setSettings(settings: UserSettings): void {
    this.settings = settings;
    this.player.autoPlay = settings.autoPlay;
    this.settingsListeners.forEach((listener) => listener(settings));
  }

  async saveSettings(patch: Partial<UserSettings>): Promise<UserSettings> {
    const saved = await this.api.updateSettings(patch);
    this.setSettings(saved);
    return saved;
  }
}

export interface View {
  readonly id: string;
  readonly title: string;
  readonly element: HTMLElement;
  /** Called each time the view is shown (reload its data). */
  show?(): void;
  /** Called when the connection to the server is back: reload what failed to load while it was away. */
  recover?(): void;
}
