// Where a host name really leads: the guard compares identities, not spellings. A name is
// normalized (case, trailing dot, IPv4 short and hex forms like 127.1, IPv6 and IPv4-mapped
// forms) and resolved to its addresses the way the connection will resolve it (getaddrinfo:
// /etc/hosts, then DNS); a unix-socket directory is its resolved path.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';

/** PostgreSQL's default port, for entries that do not name one. */
export const DEFAULT_PG_PORT = 5432;
/** How long one name may take to resolve before it is compared by name only. */
const LOOKUP_TIMEOUT_MS = 5_000;

/** A server endpoint after normalization and resolution. */
export interface Endpoint {
  /** The host as written, normalized: lower case, no trailing dot, canonical address form. */
  name: string;
  /** Canonical addresses it resolves to (IPv4-mapped IPv6 as IPv4); empty when it does not resolve. */
  addresses: string[];
  /** The socket directory when the host is a path (a unix-domain socket). */
  socketDir?: string;
}

/** The canonical form of a host as written; IP literals in any spelling become one form. */
export function normalizeHost(host: string): string {
  let text = host.trim();
  if (text.startsWith('/')) return resolvePath(text);
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  text = text.replace(/\.+$/, '').toLowerCase();
  if (isIP(text) === 6) return canonicalAddress(text);
  try {
    // WHATWG URL parsing canonicalizes IPv4 in every inet_aton spelling (127.1, 0x7f.1, 2130706433).
    const parsed = new URL(`http://${text}/`).hostname;
    if (isIP(parsed) === 4) return parsed;
  } catch {
    // Not a valid host name for a URL: compared as written.
  }
  return text;
}

/** An address in canonical form; an IPv4-mapped IPv6 address becomes the IPv4 address. */
export function canonicalAddress(address: string): string {
  if (isIP(address) === 4) return new URL(`http://${address}/`).hostname;
  const zoneless = address.replace(/%.*$/, '');
  const canonical = new URL(`http://[${zoneless}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const high = Number.parseInt(mapped[1] as string, 16);
    const low = Number.parseInt(mapped[2] as string, 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return canonical;
}

/** Normalizes and resolves `host` (a name, an address in any spelling, or a socket directory). */
export async function resolveEndpoint(host: string): Promise<Endpoint> {
  const name = normalizeHost(host);
  if (name.startsWith('/')) return { name, addresses: [], socketDir: name };
  if (isIP(name)) return { name, addresses: [name] };
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      lookup(name, { all: true, verbatim: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('lookup timed out')), LOOKUP_TIMEOUT_MS);
      }),
    ]);
    return { name, addresses: [...new Set(found.map((entry) => canonicalAddress(entry.address)))] };
  } catch {
    return { name, addresses: [] };
  } finally {
    clearTimeout(timer);
  }
}

/** Could a connection to `a` and one to `b` reach the same server host? (Ports compared by the caller.) */
export function sameHost(a: Endpoint, b: Endpoint): boolean {
  if (a.name === b.name) return true;
  if (a.socketDir || b.socketDir) {
    // A local socket reaches the server on this machine: the same as any loopback address.
    const other = a.socketDir ? b : a;
    return other.addresses.some(isLoopback);
  }
  return a.addresses.some((address) => b.addresses.includes(address));
}

/** 127.0.0.0/8 and ::1. */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}
