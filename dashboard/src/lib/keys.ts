/**
 * An idempotency key: 128 random bits as hex. (crypto.randomUUID needs a secure context, which a
 * dashboard served over plain http on a LAN address is not; getRandomValues works everywhere.)
 */
export function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
