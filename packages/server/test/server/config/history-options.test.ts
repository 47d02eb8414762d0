import { describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY_MAX_BYTES } from '../../../src/index.js';
import { loadConfig } from '../../../src/server/config/load-config.js';
import { ConfigError } from '../../../src/server/config/server-config.js';

describe('[H3] history retention options', () => {
  it('[H3][B7] --history-max-bytes and CANVAS_HISTORY_MAX_BYTES set the byte bound; 32 MiB by default; 0 is allowed (history off)', () => {
    expect(DEFAULT_HISTORY_MAX_BYTES).toBe(32 * 1024 * 1024);
    expect(loadConfig([], {}).historyMaxBytes).toBe(DEFAULT_HISTORY_MAX_BYTES);
    expect(loadConfig(['--history-max-bytes', '1048576'], {}).historyMaxBytes).toBe(1_048_576);
    expect(loadConfig([], { CANVAS_HISTORY_MAX_BYTES: '4096' }).historyMaxBytes).toBe(4096);
    expect(loadConfig(['--history-max-bytes', '0'], {}).historyMaxBytes).toBe(0);
  });

  it('[H3] a bad byte bound stops the configuration with a message naming the option', () => {
    for (const bad of ['-1', '1.5', 'lots']) {
      expect(() => loadConfig(['--history-max-bytes', bad], {})).toThrow(ConfigError);
      expect(() => loadConfig(['--history-max-bytes', bad], {})).toThrow(/history-max-bytes|historyMaxBytes/);
    }
  });
});
