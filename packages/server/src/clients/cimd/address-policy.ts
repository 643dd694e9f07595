/**
 * Which IP addresses the authorization server may connect to when it fetches a client's metadata
 * document: only globally routable unicast addresses, never the special-use ranges of RFC 6890.
 *
 * Parsing and range matching are left to `node:net` (`isIP`, `BlockList`), which also matches
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, `::ffff:a00:1`) against the IPv4 rules; hand-written
 * parsers are where octal, hex and mapped-address tricks slip through.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6890 (special-purpose address registries)
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-server-side-request-forgery
 */
import { BlockList, isIP } from 'node:net';

/** IPv4 special-use ranges (IANA IPv4 Special-Purpose Address Registry, plus multicast and class E). */
const specialIPv4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", includes the unspecified address
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space, carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, home of cloud metadata endpoints
  ['172.16.0.0', 12], // private (RFC 1918)
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private (RFC 1918)
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes the limited broadcast address
];

/**
 * IPv6 special-use ranges inside 2000::/3 (everything outside 2000::/3 is refused anyway, which
 * covers ::, ::1, fc00::/7 unique-local, fe80::/10 link-local, ff00::/8 multicast, 64:ff9b::/96
 * NAT64 and 100::/64 discard).
 */
const specialIPv6InGlobal: readonly [string, number][] = [
  ['2001::', 23], // IETF protocol assignments, includes Teredo 2001::/32 (embeds other addresses)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (deprecated, embeds an IPv4 address)
  ['3fff::', 20], // documentation (RFC 9637)
];

const special = new BlockList();
for (const [net, prefix] of specialIPv4) special.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of specialIPv6InGlobal) special.addSubnet(net, prefix, 'ipv6');

const globalUnicastIPv6 = new BlockList();
globalUnicastIPv6.addSubnet('2000::', 3, 'ipv6');

const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

/**
 * True when `address` is a globally routable unicast address that a server-side fetch may reach.
 * Anything unparsable, scoped (`fe80::1%eth0`) or special-use is refused.
 *
 * @example isPublicAddress('93.184.215.14') // true
 * @example isPublicAddress('::ffff:127.0.0.1') // false
 * @see https://www.rfc-editor.org/rfc/rfc6890
 */
export function isPublicAddress(address: string): boolean {
  // A zone index only ever accompanies link-local and other scoped addresses; BlockList ignores it.
  if (address.includes('%')) return false;
  const version = isIP(address);
  if (version === 4) return !special.check(address, 'ipv4');
  if (version !== 6) return false;
  // IPv4-mapped addresses are checked by BlockList against the IPv4 rules above.
  if (special.check(address, 'ipv6')) return false;
  return ipv4Mapped.check(address, 'ipv6') || globalUnicastIPv6.check(address, 'ipv6');
}
