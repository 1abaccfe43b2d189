// The bearer token of `serve`'s POST /runs, compared in constant time: hashing both sides gives
// equal lengths, so neither the token's length nor a matching prefix shows in the timing.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Does the Authorization header carry `Bearer <token>`? */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}
