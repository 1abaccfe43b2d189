// A duration as the config writes it ("250ms", "30s", "8d"), parsed to milliseconds: one schema
// for every key that takes one (the config's and the `shift` strategy's).
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A duration as written; the configuration reference (docs/configuration.md) types it "duration". */
export const durationText = z.string().meta({ format: 'duration' });

/** "8d", "30s", "100ms" → milliseconds. */
export const durationSchema = durationText.transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like "250ms", "30s", "5m", "2h" or "8d", got "${text}"`,
    });
    return z.NEVER;
  }
  return ms;
});
