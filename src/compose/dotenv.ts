/**
 * Reads one variable from a dotenv file as Compose does for the simple forms
 * Composure writes and users commonly keep: `NAME=value`, `NAME="value"`,
 * `NAME='value'`, an optional `export ` prefix, and a trailing ` # comment`
 * on unquoted values. The last assignment wins, as in Compose.
 *
 * Only the one value leaves this function: a `.env` often holds secrets, and
 * they must not travel into workflow history.
 */
export function readEnvFileValue(text: string, name: string): string | undefined {
  let value: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim().replace(/^export\s+/, '');
    const eq = line.indexOf('=');
    if (eq < 0 || line.slice(0, eq).trim() !== name) continue;
    const raw = line.slice(eq + 1).trim();
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    value = quoted ? quoted[2]! : raw.replace(/\s+#.*$/, '');
  }
  return value;
}
