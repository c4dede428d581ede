/**
 * Pinned host keys, read from OpenSSH known_hosts text. Composure never trusts
 * on first use: a host without a pinned key cannot be reached.
 */
import { createHash, createHmac } from 'node:crypto';

export interface PinnedKey {
  keyType: string;
  /** The raw public key blob, as the server sends it during the handshake. */
  blob: Buffer;
}

/** How known_hosts names a host: bare for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    // Hashed entry: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  const glob = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
  );
  return glob.test(name);
}

/** The keys pinned for host:port in known_hosts text (markers and negations honoured). */
export function pinnedKeysFor(knownHosts: string, host: string, port: number): PinnedKey[] {
  const name = knownHostsName(host, port);
  const keys: PinnedKey[] = [];
  const revoked: Buffer[] = [];
  for (const raw of knownHosts.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    // @cert-authority lines are not plain pins; @revoked keys must never be accepted (sshd(8)).
    const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
    if (marker !== undefined && marker !== '@revoked') continue;
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64) continue;
    const patterns = hosts.split(',');
    const negated = patterns.some((p) => p.startsWith('!') && patternMatches(p.slice(1), name));
    const matched = patterns.some((p) => !p.startsWith('!') && patternMatches(p, name));
    if (!matched || negated) continue;
    if (marker) revoked.push(Buffer.from(base64, 'base64'));
    else keys.push({ keyType, blob: Buffer.from(base64, 'base64') });
  }
  return keys.filter((key) => !revoked.some((blob) => blob.equals(key.blob)));
}

/** Parse a single "ssh-ed25519 AAAA… [comment]" public key line. */
export function parsePublicKeyLine(line: string): PinnedKey {
  const [keyType, base64] = line.trim().split(/\s+/);
  if (!keyType || !base64) throw new TypeError(`not a public key line: ${JSON.stringify(line.slice(0, 40))}`);
  return { keyType, blob: Buffer.from(base64, 'base64') };
}

/** OpenSSH-style fingerprint, e.g. SHA256:abc… (as `ssh-keygen -lf` prints). */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}
