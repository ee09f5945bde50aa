import type {
  ApiError,
  HistoryPage,
  LibraryVoice,
  Model,
  OAuthDecision,
  OAuthGrant,
  OAuthGrantList,
  OAuthPendingRequest,
  SpeakResult,
  SpeechSource,
  Usage,
  UserSettings,
  Voice,
  VoiceSettings,
} from '@earshot/protocol';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface LibraryQuery {
  readonly search?: string;
  readonly gender?: string;
  readonly accent?: string;
  readonly language?: string;
  readonly use_case?: string;
  readonly page?: number;
}

export interface SpeakRequest {
  readonly text: string;
  readonly voice?: string;
  readonly model?: string;
  readonly settings?: VoiceSettings;
  readonly source?: Exclude<SpeechSource, 'mcp'>;
  /** false: generate and keep in history without playing it. */
  readonly play?: boolean;
}

/** The typed REST client for `/api/v1`; every call carries the bearer key. */
export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.key}`);
    if (init.body) headers.set('content-type', 'application/json');
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1${path}`, { ...init, headers });
    } catch {
      throw new ApiRequestError(0, 'unreachable', 'Earshot is not reachable. Is the server running?');
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as ApiError | null;
      throw new ApiRequestError(
        response.status,
        body?.error.code ?? 'http_error',
        body?.error.message ?? `Earshot answered ${response.status}.`,
      );
    }
    return response;
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    return (await (await this.request(path, init)).json()) as T;
  }

  settings(): Promise<UserSettings> {
    return this.json('/settings');
  }
  updateSettings(patch: Partial<UserSettings>): Promise<UserSettings> {
    return this.json('/settings', { method: 'PUT', body: JSON.stringify(patch) });
  }
  async voices(search = ''): Promise<Voice[]> {
    const query = search ? `?search=${encodeURIComponent(search)}` : '';
    return (await this.json<{ voices: Voice[] }>(`/voices${query}`)).voices;
  }
  async models(): Promise<Model[]> {
    return (await this.json<{ models: Model[] }>('/models')).models;
  }
  speak(request: SpeakRequest): Promise<SpeakResult> {
    return this.json('/speak', { method: 'POST', body: JSON.stringify(request) });
  }
  library(query: LibraryQuery): Promise<{ voices: LibraryVoice[]; hasMore: boolean }> {
    const params = new URLSearchParams({ page_size: '30' });
    for (const [name, value] of Object.entries(query))
      if (value !== undefined && value !== '') params.set(name, String(value));
    return this.json(`/library?${params}`);
  }
  /** Plays stored audio again on every open player of the user. */
  replayOnPlayers(id: string): Promise<SpeakResult> {
    return this.json(`/history/${encodeURIComponent(id)}/replay`, { method: 'POST' });
  }
  stop(): Promise<{ stopped: boolean }> {
    return this.json('/stop', { method: 'POST', body: '{}' });
  }
  /** Newest first; pass the page's `nextCursor` back as `cursor` for older items. */
  history(search = '', limit = 50, cursor?: string): Promise<HistoryPage> {
    const params = new URLSearchParams({ limit: String(limit) });
    if (search) params.set('search', search);
    if (cursor) params.set('cursor', cursor);
    return this.json<HistoryPage>(`/history?${params}`);
  }
  async deleteHistory(id: string): Promise<void> {
    await this.request(`/history/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }
  /** The stored audio as a WAV blob (fetched with the key, so it cannot be a plain link). */
  /** Stored audio: as stored (Ogg Opus; older PCM items come as WAV), or decoded to WAV. */
  async historyAudio(id: string, format?: 'wav' | 'opus'): Promise<Blob> {
    const query = format ? `?format=${format}` : '';
    return (await this.request(`/history/${encodeURIComponent(id)}/audio${query}`)).blob();
  }
  usage(days = 30): Promise<Usage> {
    return this.json(`/usage?days=${days}`);
  }
  /** Who this key signs in as (the usage answer names the user; one day of it is the cheapest ask). */
  async whoami(): Promise<string> {
    return (await this.usage(1)).user;
  }
  oauthRequest(id: string): Promise<OAuthPendingRequest> {
    return this.json(`/oauth/requests/${encodeURIComponent(id)}`);
  }
  /** Approves or denies a pending authorization; the answer is where to send the browser. */
  decideOAuth(id: string, decision: 'approve' | 'deny'): Promise<OAuthDecision> {
    return this.json(`/oauth/requests/${encodeURIComponent(id)}/${decision}`, { method: 'POST', body: '{}' });
  }
  async oauthGrants(): Promise<readonly OAuthGrant[]> {
    return (await this.json<OAuthGrantList>('/oauth/grants')).grants;
  }
  async revokeOAuthGrant(id: string): Promise<void> {
    await this.request(`/oauth/grants/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }
}
