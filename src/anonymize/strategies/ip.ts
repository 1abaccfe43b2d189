// `ip` — a keyed stand-in address of the same family for inet/cidr (and text holding one):
// IPv4 in 10.0.0.0/8, IPv6 in fd00::/8 (private ranges: nothing real answers there). A prefix
// length stays (`/24`), and for cidr the host bits are zero, as the type requires. The same
// address always gets the same stand-in, so joins and counts by address still work.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { type Strategy, TEXT_TYPES } from './strategy.js';

/** Replaces each address with a keyed private one of the same family and prefix length. */
export const ipStrategy: Strategy<'ip', Record<string, never>> = {
  name: 'ip',
  options: z.strictObject({}),
  bare: {},
  writes: 'inet and cidr columns (and text holding addresses)',
  accepts: (type) => type === 'inet' || type === 'cidr' || TEXT_TYPES.has(type),
  leakCheckable: true,
  memoize: true,
  readsRow: () => false,
  compile: (_options, ctx) => {
    const { prf } = ctx;
    const network = ctx.type === 'cidr';
    return (value) => {
      if (value === null) return null;
      const slash = value.indexOf('/');
      const address = slash === -1 ? value : value.slice(0, slash);
      const suffix = slash === -1 ? '' : value.slice(slash);
      const bits = slash === -1 ? undefined : Number(value.slice(slash + 1));
      if (isIPv4(address)) {
        const word = (0x0a000000 | (prf.uint32(address) & 0x00ffffff)) >>> 0;
        const kept = network && bits !== undefined ? zeroHostBits(word, bits) : word;
        return `${[24, 16, 8, 0].map((shift) => (kept >>> shift) & 0xff).join('.')}${suffix}`;
      }
      if (isIPv6(address)) {
        const hex = `fd${prf.hex(address, 30)}`;
        let groups = Array.from({ length: 8 }, (_, index) => hex.slice(index * 4, index * 4 + 4));
        if (network && bits !== undefined) groups = zeroHostGroups(groups, bits);
        return `${groups.join(':')}${suffix}`;
      }
      return null; // not an address: drop rather than leak
    };
  },
};

function zeroHostBits(word: number, bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return word;
  return (word & (0xffffffff << (32 - bits))) >>> 0;
}

function zeroHostGroups(groups: string[], bits: number): string[] {
  return groups.map((group, index) => {
    const keep = Math.max(0, Math.min(16, bits - index * 16));
    const value = Number.parseInt(group, 16);
    const masked = keep === 0 ? 0 : value & (0xffff << (16 - keep)) & 0xffff;
    return masked.toString(16).padStart(4, '0');
  });
}
