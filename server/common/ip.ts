// Client addresses in one spelling each, and the block a rate limit counts them by.
import { isIPv4, isIPv6 } from 'node:net';

const WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/;
const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** `raw` as one canonical address (IPv4-mapped as IPv4; no brackets, port or zone), or as given. */
export function normalizeIp(raw: string): string {
  if (isIPv4(raw)) return raw;
  let ip = raw.trim();
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']'));
  ip = WITH_PORT.exec(ip)?.[1] ?? ip;
  const zone = ip.indexOf('%');
  if (zone !== -1) ip = ip.slice(0, zone);
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return raw;
  // The WHATWG URL parser writes IPv6 hosts in their canonical form.
  const canonical = new URL(`http://[${ip}]`).hostname.slice(1, -1);
  const mapped = MAPPED.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** What a per-address limit counts: an IPv4 address, or the /64 of an IPv6 one, often one client's. */
export function addressBlock(ip: string): string {
  const address = normalizeIp(ip);
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).join(':')}::/64`;
}
