// `email` — u_<64-bit keyed token>@domain: valid, deterministic, unique in practice (collision odds
// ~n²/2^65). The token is of the trimmed, lowercased address, so the same mailbox joins however it
// was capitalised — and two values differing only by case become the same address.
import { z } from 'zod';
import { type Strategy, TEXT_TYPES } from './strategy.js';

interface EmailOptions {
  domain?: string | undefined;
}

/** `u_` + 16 hex digits + `@` + the domain. */
export const emailLength = (domain: string): number => 19 + domain.length;

/** Writes a deterministic e-mail address under anonymize.domain (or its own domain). */
export const emailStrategy: Strategy<'email', EmailOptions> = {
  name: 'email',
  options: z.strictObject({ domain: z.string().optional() }),
  bare: {},
  writes: 'text-like columns',
  accepts: (type) => TEXT_TYPES.has(type),
  leakCheckable: true,
  memoize: true,
  readsRow: () => false,
  misfit: (options, column) => {
    // The domain may come from anonymize.domain; the default is checked by the caller.
    if (column.maxLength === undefined || options.domain === undefined) return undefined;
    const length = emailLength(options.domain);
    return length > column.maxLength
      ? `email writes ${length} characters and the column takes ${column.maxLength}`
      : undefined;
  },
  compile: (options, ctx) => {
    const domain = options.domain ?? ctx.domain;
    return (value) => (value === null ? null : `u_${ctx.prf.token(value.trim().toLowerCase())}@${domain}`);
  },
};
