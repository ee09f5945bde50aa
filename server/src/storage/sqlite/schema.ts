/**
 * The SQLite schema, versioned with `PRAGMA user_version`: migration N takes a database from version N-1 to
 * N inside one transaction. Append migrations; never edit one that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: settings, history (+ trigram full-text index), usage with reservations, audio accounting.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

  CREATE TABLE settings (
    user TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    version INTEGER NOT NULL
  ) STRICT;

  -- seq orders the history: createdAt in ms × 1024 + a counter for items stored in the same ms, so the
  -- full-text index (which walks rowids in order and stops at LIMIT) returns matches newest first.
  CREATE TABLE history (
    seq INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at INTEGER,
    audio_bytes INTEGER,
    text TEXT NOT NULL,
    voice_name TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (user, id)
  ) STRICT;
  CREATE INDEX history_by_user ON history (user, seq);
  CREATE INDEX history_by_expiry ON history (expires_at) WHERE expires_at IS NOT NULL;

  -- Trigram tokens give substring search (like the DynamoDB backend's contains()) from 3 characters on.
  CREATE VIRTUAL TABLE history_fts USING fts5 (
    text, voice_name, content = 'history', content_rowid = 'seq', tokenize = 'trigram'
  );
  CREATE TRIGGER history_fts_insert AFTER INSERT ON history BEGIN
    INSERT INTO history_fts (rowid, text, voice_name) VALUES (new.seq, new.text, new.voice_name);
  END;
  CREATE TRIGGER history_fts_delete AFTER DELETE ON history BEGIN
    INSERT INTO history_fts (history_fts, rowid, text, voice_name)
      VALUES ('delete', old.seq, old.text, old.voice_name);
  END;
  CREATE TRIGGER history_fts_update AFTER UPDATE OF text, voice_name ON history BEGIN
    INSERT INTO history_fts (history_fts, rowid, text, voice_name)
      VALUES ('delete', old.seq, old.text, old.voice_name);
    INSERT INTO history_fts (rowid, text, voice_name) VALUES (new.seq, new.text, new.voice_name);
  END;

  CREATE TABLE usage (
    user TEXT NOT NULL,
    day TEXT NOT NULL,
    characters INTEGER NOT NULL DEFAULT 0,
    credits REAL NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user, day)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    day TEXT NOT NULL,
    characters INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX reservations_by_expiry ON reservations (user, day, expires_at);
  CREATE INDEX reservations_expiry ON reservations (expires_at);

  CREATE TABLE audio_usage (
    user TEXT NOT NULL,
    expiry_day TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (user, expiry_day)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: the cache key of completed items with audio, so an identical request finds its audio with one lookup.
  `
  ALTER TABLE history ADD COLUMN cache_key TEXT;
  UPDATE history SET cache_key = json_extract(doc, '$.cacheKey')
    WHERE audio_bytes IS NOT NULL AND json_extract(doc, '$.status') = 'completed';
  CREATE INDEX history_by_cache_key ON history (user, cache_key, seq) WHERE cache_key IS NOT NULL;
  `,
  // 3: OAuth 2.1 — registered clients, pending authorization requests, grants, and codes/tokens by hash.
  `
  CREATE TABLE oauth_clients (client_id TEXT PRIMARY KEY, doc TEXT NOT NULL) STRICT;
  CREATE TABLE oauth_requests (id TEXT PRIMARY KEY, doc TEXT NOT NULL, expires_at INTEGER NOT NULL) STRICT;
  CREATE INDEX oauth_requests_by_expiry ON oauth_requests (expires_at);
  CREATE TABLE oauth_grants (
    user TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user, id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX oauth_grants_by_expiry ON oauth_grants (expires_at);
  CREATE TABLE oauth_secrets (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    data TEXT
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX oauth_secrets_by_expiry ON oauth_secrets (expires_at);
  `,
  // 4: registered OAuth clients expire (OAUTH_LIFETIMES): those registered before get the lifetime of a client
  // just used, 60 days from the upgrade, and live on while tokens are issued to them.
  `
  ALTER TABLE oauth_clients ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
  UPDATE oauth_clients SET expires_at = unixepoch() * 1000 + 60 * 86400000;
  CREATE INDEX oauth_clients_by_expiry ON oauth_clients (expires_at);
  `,
  // 5: a booking is its row and nothing else: what a day has reserved is the sum of its rows, no longer a counter
  // kept beside them (usage.reserved), and the rows live in one B-tree keyed as they are looked up. Booking a
  // speech, on its way to ElevenLabs, now writes one page instead of five (the table, its id index, two expiry
  // indexes and the usage row). The table holds only speeches in flight (and a crashed process's, until their
  // lease runs out), so finding expired ones by a scan needs no index.
  `
  CREATE TABLE bookings (
    user TEXT NOT NULL,
    day TEXT NOT NULL,
    id TEXT NOT NULL,
    characters INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user, day, id)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO bookings (user, day, id, characters, expires_at)
    SELECT user, day, id, characters, expires_at FROM reservations;
  DROP TABLE reservations;
  ALTER TABLE bookings RENAME TO reservations;
  ALTER TABLE usage DROP COLUMN reserved;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
