import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPublicAddress } from './address-policy.ts';

const refused = [
  ['127.0.0.1', 'IPv4 loopback'],
  ['127.255.255.254', 'IPv4 loopback, end of range'],
  ['0.0.0.0', 'IPv4 unspecified'],
  ['10.1.2.3', 'RFC 1918 10/8'],
  ['172.16.0.1', 'RFC 1918 172.16/12'],
  ['172.31.255.255', 'RFC 1918 172.16/12, end of range'],
  ['192.168.1.1', 'RFC 1918 192.168/16'],
  ['169.254.169.254', 'link-local cloud metadata endpoint'],
  ['100.64.0.1', 'CGNAT shared space'],
  ['100.127.255.255', 'CGNAT shared space, end of range'],
  ['192.0.0.8', 'IETF protocol assignments'],
  ['192.0.2.1', 'TEST-NET-1'],
  ['198.18.0.1', 'benchmarking'],
  ['198.51.100.7', 'TEST-NET-2'],
  ['203.0.113.9', 'TEST-NET-3'],
  ['224.0.0.1', 'IPv4 multicast'],
  ['240.0.0.1', 'IPv4 reserved'],
  ['255.255.255.255', 'limited broadcast'],
  ['::', 'IPv6 unspecified'],
  ['::1', 'IPv6 loopback'],
  ['fc00::1', 'unique-local fc00::/7'],
  ['fd12:3456::1', 'unique-local fd00::/8'],
  ['fe80::1', 'IPv6 link-local'],
  ['fe80::1%eth0', 'IPv6 link-local with a zone index'],
  ['fec0::1', 'deprecated site-local'],
  ['ff02::1', 'IPv6 multicast'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback, dotted'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
  ['::ffff:10.0.0.1', 'IPv4-mapped private'],
  ['::ffff:a9fe:a9fe', 'IPv4-mapped link-local metadata endpoint'],
  ['::127.0.0.1', 'deprecated IPv4-compatible'],
  ['64:ff9b::a00:1', 'NAT64 of a private address'],
  ['64:ff9b:1::1', 'local-use NAT64'],
  ['100::1', 'discard-only'],
  ['2001::1', 'Teredo'],
  ['2001:db8::1', 'IPv6 documentation'],
  ['2002:7f00:1::1', '6to4 embedding loopback'],
  ['3fff::1', 'IPv6 documentation (RFC 9637)'],
  ['localhost', 'a name instead of an address'],
  ['', 'the empty string'],
  ['1.2.3', 'a short-form IPv4 literal'],
  ['0x7f.0.0.1', 'a hex IPv4 literal'],
  ['017700000001', 'an octal IPv4 literal'],
] as const;

for (const [address, label] of refused) {
  test(`draft-ietf-oauth-client-id-metadata-document §SSRF: ${label} (${JSON.stringify(address)}) is not a fetch target`, () => {
    assert.equal(isPublicAddress(address), false);
  });
}

const allowed = [
  ['93.184.215.14', 'public IPv4'],
  ['1.1.1.1', 'public IPv4'],
  ['172.32.0.1', 'public IPv4 just past 172.16/12'],
  ['100.128.0.1', 'public IPv4 just past 100.64/10'],
  ['2606:4700:4700::1111', 'public IPv6'],
  ['2a00:1450:4001:80b::200e', 'public IPv6'],
  ['::ffff:93.184.215.14', 'IPv4-mapped public address'],
] as const;

for (const [address, label] of allowed) {
  test(`draft-ietf-oauth-client-id-metadata-document §SSRF: ${label} (${address}) may be fetched`, () => {
    assert.equal(isPublicAddress(address), true);
  });
}
