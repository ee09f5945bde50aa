import { describe, expect, it } from 'vitest';
import { startupBanner, type BannerSource } from './banner.js';

const KEY = 'esk_bannerTestKey0123456789abcdefghij';
const running: BannerSource = {
  url: 'http://127.0.0.1:8080',
  publicUrl: 'http://127.0.0.1:8080',
  localKey: KEY,
  keyCreated: true,
  users: ['default'],
  engine: { name: 'offline' },
};

describe('startupBanner', () => {
  it('in a terminal, shows the player URL with the key and ready-to-paste agent config', () => {
    const banner = startupBanner(running, { tty: true, keyFile: '/data/api-key' });
    expect(banner).toContain(`http://127.0.0.1:8080/#key=${KEY}`);
    expect(banner).toContain(`"Authorization": "Bearer ${KEY}"`);
    expect(banner).toContain(`--header "Authorization: Bearer ${KEY}"`);
  });

  it('names the key file as the user would type it, from the folder they started in', () => {
    const banner = startupBanner(running, {
      tty: true,
      keyFile: '/home/ada/project/.earshot/api-key',
      cwd: '/home/ada/project',
    });
    expect(banner).toContain(`API key (new, saved in .earshot/api-key): ${KEY}`);
    const elsewhere = startupBanner(
      { ...running, keyCreated: false },
      { tty: false, keyFile: '/srv/earshot/api-key', cwd: '/home/ada/project' },
    );
    expect(elsewhere).toContain('API key: saved in /srv/earshot/api-key (mode 0600)');
    const fromEnv = startupBanner(running, { tty: true, keyFile: undefined });
    expect(fromEnv).toContain(`API key (from EARSHOT_API_KEY): ${KEY}`);
  });

  it('points every other client to the Connect page and the clients guide, terminal or not', () => {
    const variants = [
      startupBanner(running, { tty: true, keyFile: '/data/api-key' }),
      startupBanner(running, { tty: false, keyFile: '/data/api-key' }),
      startupBanner({ ...running, localKey: undefined, users: ['alice'] }, { tty: true, keyFile: undefined }),
    ];
    for (const banner of variants) {
      expect(banner).toMatch(
        /Other clients \(VS Code, Windsurf, Claude Desktop\): http:\/\/127\.0\.0\.1:8080\/#\/connect, or docs\/clients\.md/,
      );
    }
  });

  it('when not a terminal, says where the generated key is and how to show it, and never prints it', () => {
    const banner = startupBanner(running, { tty: false, keyFile: '/data/api-key' });
    expect(banner).not.toContain(KEY.slice(4, 14));
    expect(banner).not.toContain('#key=');
    expect(banner).toContain('Player page: http://127.0.0.1:8080/ ');
    expect(banner).toContain(
      'API key: new, saved in /data/api-key (mode 0600); show it with: cat /data/api-key',
    );
    expect(banner).toContain('MCP endpoint: http://127.0.0.1:8080/mcp with "Authorization: Bearer YOUR_KEY"');
    const saved = startupBanner({ ...running, keyCreated: false }, { tty: false, keyFile: '/data/api-key' });
    expect(saved).toContain('API key: saved in /data/api-key');
  });

  it('when not a terminal, points at EARSHOT_API_KEY for a key from the environment', () => {
    const banner = startupBanner({ ...running, keyCreated: false }, { tty: false, keyFile: undefined });
    expect(banner).not.toContain(KEY.slice(4, 14));
    expect(banner).toContain('API key: the one in EARSHOT_API_KEY');
  });

  it('with EARSHOT_API_KEYS lists the users and no key, terminal or not', () => {
    for (const tty of [true, false]) {
      const banner = startupBanner(
        { ...running, localKey: undefined, users: ['alice', 'bob'] },
        { tty, keyFile: undefined },
      );
      expect(banner).toContain('Users (keys from EARSHOT_API_KEYS): alice, bob');
      expect(banner).toContain('#key=YOUR_KEY');
    }
  });
});
