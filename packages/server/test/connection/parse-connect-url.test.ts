import { describe, expect, it } from 'vitest';
import { ConnectRequestError, type ConnectRequestErrorCode, parseConnectUrl } from '../../src/index.js';

function codeOf(run: () => unknown): ConnectRequestErrorCode | 'no-error' | 'other-error' {
  try {
    run();
    return 'no-error';
  } catch (error) {
    if (error instanceof ConnectRequestError) return error.code;
    return 'other-error';
  }
}

describe('parseConnectUrl', () => {
  it('[C1] reads roomId, clientId and token from a full wss URL with a path', () => {
    expect(parseConnectUrl('wss://example.com/sync/ws?roomId=room-1&clientId=client-1&token=secret')).toEqual(
      { roomId: 'room-1', clientId: 'client-1', token: 'secret' },
    );
  });

  it('[C1] reads the parameters from a full ws URL with a port and in any order', () => {
    expect(parseConnectUrl('ws://localhost:8080/?token=t&clientId=c&roomId=r')).toEqual({
      roomId: 'r',
      clientId: 'c',
      token: 't',
    });
  });

  it('[C1] reads the parameters from a path-and-query', () => {
    expect(parseConnectUrl('/?roomId=r1&clientId=c1&token=t1')).toEqual({
      roomId: 'r1',
      clientId: 'c1',
      token: 't1',
    });
    expect(parseConnectUrl('/rooms/ws?roomId=r2&clientId=c2&token=t2')).toEqual({
      roomId: 'r2',
      clientId: 'c2',
      token: 't2',
    });
  });

  it('[C1] decodes URL-encoded values', () => {
    const roomId = 'team/α room?&=#';
    const clientId = 'ü+client';
    const token = 'a.b/c+d==';
    const url = `/?roomId=${encodeURIComponent(roomId)}&clientId=${encodeURIComponent(clientId)}&token=${encodeURIComponent(token)}`;
    expect(parseConnectUrl(url)).toEqual({ roomId, clientId, token });
    expect(parseConnectUrl(`wss://host/p${url.slice(1)}`)).toEqual({ roomId, clientId, token });
  });

  it('[C1] ignores extra query parameters and a fragment', () => {
    expect(parseConnectUrl('/?roomId=r&clientId=c&token=t&foo=bar#frag')).toEqual({
      roomId: 'r',
      clientId: 'c',
      token: 't',
    });
  });

  it('[C1] a missing roomId throws ConnectRequestError missing-room-id', () => {
    expect(() => parseConnectUrl('/?clientId=c&token=t')).toThrow(ConnectRequestError);
    expect(codeOf(() => parseConnectUrl('/?clientId=c&token=t'))).toBe('missing-room-id');
    expect(codeOf(() => parseConnectUrl('wss://host/?clientId=c&token=t'))).toBe('missing-room-id');
  });

  it('[C1] an empty roomId throws missing-room-id', () => {
    expect(codeOf(() => parseConnectUrl('/?roomId=&clientId=c&token=t'))).toBe('missing-room-id');
    expect(codeOf(() => parseConnectUrl('/?roomId&clientId=c&token=t'))).toBe('missing-room-id');
  });

  it('[C1] a missing or empty clientId throws missing-client-id', () => {
    expect(codeOf(() => parseConnectUrl('/?roomId=r&token=t'))).toBe('missing-client-id');
    expect(codeOf(() => parseConnectUrl('/?roomId=r&clientId=&token=t'))).toBe('missing-client-id');
    expect(codeOf(() => parseConnectUrl('wss://host/x?roomId=r&token=t'))).toBe('missing-client-id');
  });

  it('[C1] a missing or empty token throws missing-token', () => {
    expect(codeOf(() => parseConnectUrl('/?roomId=r&clientId=c'))).toBe('missing-token');
    expect(codeOf(() => parseConnectUrl('/?roomId=r&clientId=c&token='))).toBe('missing-token');
    expect(codeOf(() => parseConnectUrl('wss://host/?roomId=r&clientId=c'))).toBe('missing-token');
  });

  it('[C1] a URL without any query throws missing-room-id', () => {
    expect(codeOf(() => parseConnectUrl('/'))).toBe('missing-room-id');
    expect(codeOf(() => parseConnectUrl(''))).toBe('missing-room-id');
    expect(codeOf(() => parseConnectUrl('wss://host/path'))).toBe('missing-room-id');
  });

  it('[C1] an unparseable URL throws ConnectRequestError invalid-url', () => {
    expect(() => parseConnectUrl('http://[::1')).toThrow(ConnectRequestError);
    expect(codeOf(() => parseConnectUrl('http://[::1'))).toBe('invalid-url');
    expect(codeOf(() => parseConnectUrl('wss://exa mple.com/?roomId=r&clientId=c&token=t'))).toBe(
      'invalid-url',
    );
  });

  it('[C1] a non-string input throws invalid-url instead of a TypeError', () => {
    const inputs: unknown[] = [undefined, null, 42, {}, ['/?roomId=r&clientId=c&token=t']];
    for (const input of inputs) {
      expect(codeOf(() => parseConnectUrl(input as string))).toBe('invalid-url');
    }
  });

  it('[C1] the error is an Error named ConnectRequestError carrying its code', () => {
    let caught: unknown;
    try {
      parseConnectUrl('/?roomId=r');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toBeInstanceOf(ConnectRequestError);
    expect((caught as ConnectRequestError).name).toBe('ConnectRequestError');
    expect((caught as ConnectRequestError).code).toBe('missing-client-id');
    expect((caught as ConnectRequestError).message).not.toBe('');
  });
});

describe('parseConnectUrl rejects ids that storage could not keep (C1, B2)', () => {
  it.each([
    ['a NUL in roomId', '/?roomId=a%00b&clientId=c&token=t'],
    ['a NUL in clientId', '/?roomId=r&clientId=%00&token=t'],
    ['a roomId over 512 characters', `/?roomId=${'r'.repeat(513)}&clientId=c&token=t`],
  ])('[C1][B2] %s is refused as invalid-url', (_label, url) => {
    expect(() => parseConnectUrl(url)).toThrow(expect.objectContaining({ code: 'invalid-url' }));
  });
});
