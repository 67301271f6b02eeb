import { BlockList, isIP } from 'node:net';

// Everything a sandbox must never reach through the proxy, whatever a name resolves to: loopback,
// RFC 1918, CGNAT, link-local (incl. cloud metadata 169.254.169.254), multicast, reserved, and
// their IPv6 counterparts (incl. IPv4-mapped addresses, checked as IPv4).
const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) forbidden.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32], ['fd00:ec2::', 32],
] as const) forbidden.addSubnet(network, prefix, 'ipv6');

/** True for addresses no sandbox may reach (checked after DNS resolution, so rebinding cannot dodge it). */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return forbidden.check(mapped[1], 'ipv4');
    return forbidden.check(address, 'ipv6');
  }
  return forbidden.check(address, 'ipv4');
}

/** Whether `host` matches an allowlist entry: exact, or `*.example.com` for subdomains. */
export function hostAllowed(host: string, allowlist: readonly string[] | 'any'): boolean {
  if (allowlist === 'any') return true;
  const name = host.toLowerCase().replace(/\.$/, '');
  return allowlist.some((entry) => {
    const pattern = entry.toLowerCase();
    if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
    return name === pattern;
  });
}
