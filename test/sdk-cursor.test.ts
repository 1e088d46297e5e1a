import { decodeCursor as sdkDecode, encodeCursor as sdkEncode } from '../client/sdk/cursor';
import { decodeCursor as serverDecode, encodeCursor as serverEncode } from '../src/messages/sync-cursor';

describe("the SDK's cursor codec: the server's format without Buffer", () => {
  const maps = [
    new Map<string, number>(),
    new Map([['1', 0]]),
    new Map([['12', 5]]),
    new Map([['7', 3], ['123456789012345678', 4294967295], ['42', 1]]),
    // Every length modulo 3, so that each padding case of base64 is crossed.
    new Map(Array.from({ length: 50 }, (_, i) => [String(1000 + i * 7), i * 13] as [string, number])),
  ];

  it.each(maps.map((map) => [map.size, map]))('should encode a map of %i conversations exactly as the server does', (_size, map) => {
    expect(sdkEncode(map)).toBe(serverEncode(map));
  });

  it.each(maps.map((map) => [map.size, map]))("should decode the server's cursor of %i conversations to the same map, in order", (_size, map) => {
    expect([...sdkDecode(serverEncode(map))]).toEqual([...serverDecode(serverEncode(map))]);
  });

  it('should cover every padding case of base64 with the maps above', () => {
    expect(new Set(maps.map((map) => serverEncode(map).length % 4))).toEqual(new Set([0, 2, 3]));
  });

  it('should read null and the empty string as the empty cursor', () => {
    expect(sdkDecode(null).size).toBe(0);
    expect(sdkDecode('').size).toBe(0);
  });

  it.each([['standard base64 characters', '+/=='], ['a cursor of bad entries', serverEncodeText('1:2,x:3')], ['an impossible length', 'abcde']])(
    'should refuse %s',
    (_what, cursor) => {
      expect(() => sdkDecode(cursor)).toThrow('not a syncMessages cursor');
    },
  );
});

/** base64url of raw text, as a cursor that is well encoded but not one the server would write. */
function serverEncodeText(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
