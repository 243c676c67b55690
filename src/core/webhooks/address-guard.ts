import dns from 'node:dns';
import net from 'node:net';

// SSRF guard: webhooks go to public addresses only. The host is resolved when a delivery is
// sent, every address it resolves to must be public, and the connection goes to the address
// that was checked (see send.ts), so DNS rebinding between check and connect gets nothing.

// Two lists: one BlockList would match every IPv4 address against the IPv4-mapped IPv6 rule.
const blockedV4 = new net.BlockList();
const blockedV6 = new net.BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches localhost on Linux
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) blockedV4.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback (::1), IPv4-compatible
  ['::ffff:0:0', 96], // IPv4-mapped
  ['64:ff9b::', 96], // NAT64 (embeds an IPv4 address)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 32], // Teredo (embeds an IPv4 address)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (embeds an IPv4 address)
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) blockedV6.addSubnet(network, prefix, 'ipv6');

export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  return family === 4 ? !blockedV4.check(address, 'ipv4') : !blockedV6.check(address, 'ipv6');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** hostname → every address it resolves to; injectable so tests can point a name anywhere. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/** A refusal an owner can act on: the hub would not send to this URL. */
export class RefusedUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedUrlError';
  }
}

export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

/** Checks what can be checked without DNS: scheme, credentials, an IP literal or localhost. */
export function checkUrlShape(raw: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RefusedUrlError(`"${raw}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new RefusedUrlError(policy.allowHttp ? 'Webhook URLs must be http or https.' : 'Webhook URLs must use https (this deployment does not allow http: HUB_ALLOW_HTTP_WEBHOOKS).');
  }
  if (url.username || url.password) throw new RefusedUrlError('Webhook URLs may not carry a user name or password; receivers authenticate deliveries by their signature.');
  const host = hostOf(url);
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (net.isIP(host) && !isPublicAddress(host)))) {
    throw new RefusedUrlError(`${host} is not a public address; webhooks go only to public addresses (HUB_ALLOW_PRIVATE_WEBHOOKS=true allows others, for development).`);
  }
  return url;
}

/** The URL's host without IPv6 brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Resolves the URL's host now and returns the address to connect to, or throws RefusedUrlError. */
export async function vetDestination(url: URL, policy: UrlPolicy, resolve: Resolver): Promise<ResolvedAddress> {
  const host = hostOf(url);
  const literal = net.isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new RefusedUrlError(`${host} could not be resolved (${(error as NodeJS.ErrnoException).code ?? String(error)}).`);
    }
  }
  if (addresses.length === 0) throw new RefusedUrlError(`${host} resolves to no address.`);
  if (!policy.allowPrivate) {
    const refused = addresses.filter((entry) => !isPublicAddress(entry.address));
    if (refused.length > 0) {
      throw new RefusedUrlError(`${host} resolves to ${refused.map((entry) => entry.address).join(', ')}, not a public address; webhooks go only to public addresses (HUB_ALLOW_PRIVATE_WEBHOOKS=true allows others, for development).`);
    }
  }
  return addresses[0];
}
