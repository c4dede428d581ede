/**
 * Small file operations on the host, as argv. Content is passed as an
 * argument to a fixed script (never spliced into it), so it is data, not code.
 */
import { absolutePath, envVarName, imageTag } from './validate';

/** Creates DIR; fails if it exists. mkdir is atomic, which makes it a lock. */
export function makeDirectory(path: string, { parents = false } = {}): string[] {
  return parents ? ['mkdir', '-p', '--', absolutePath(path)] : ['mkdir', '--', absolutePath(path)];
}

export function removeTree(path: string): string[] {
  const p = absolutePath(path);
  // Only Composure's own state directory is ever removed this way.
  if (!p.includes('/.composure/')) throw new Error(`refusing to remove ${p}: not under a .composure directory`);
  return ['rm', '-rf', '--', p];
}

export function readFile(path: string): string[] {
  return ['cat', '--', absolutePath(path)];
}

function checkedContent(content: string): string {
  if (content.includes('\0')) throw new Error('file content contains a NUL byte');
  return content;
}

/** Writes CONTENT (plus a newline) to PATH, replacing it. */
export function writeFile(path: string, content: string): string[] {
  return ['sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'composure-write', checkedContent(content), absolutePath(path)];
}

/** Appends CONTENT as one line to PATH. */
export function appendLine(path: string, content: string): string[] {
  if (/[\r\n]/.test(content)) throw new Error('a ledger line cannot contain a newline');
  return ['sh', '-c', 'printf "%s\\n" "$1" >> "$2"', 'composure-append', checkedContent(content), absolutePath(path)];
}

/**
 * Sets NAME=TAG in a dotenv FILE (Compose's `.env`), or removes NAME's lines
 * when TAG is undefined; every other line is kept as it was. The new file
 * replaces the old with `mv`, so Compose never reads half of it, and keeps
 * the old file's mode (a `.env` often holds secrets).
 */
export function setEnvFileVariable(path: string, name: string, tag: string | undefined): string[] {
  const script = [
    'set -e',
    'f=$3; tmp="$f.composure-tmp"',
    'if [ -f "$f" ]; then cp -p -- "$f" "$tmp"; grep -v -e "^$1=" -- "$f" > "$tmp" || true; else : > "$tmp"; fi',
    'if [ -n "$2" ]; then printf "%s=%s\\n" "$1" "$2" >> "$tmp"; fi',
    'mv -f -- "$tmp" "$f"',
  ].join('; ');
  return ['sh', '-c', script, 'composure-setenv', envVarName(name), tag === undefined ? '' : imageTag(tag), absolutePath(path)];
}
