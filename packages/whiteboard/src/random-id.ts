const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random id of lowercase letters and digits. Uses `crypto.getRandomValues`,
 * which (unlike `crypto.randomUUID`) also works on plain-http LAN addresses.
 */
export function randomId(length = 10): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}
