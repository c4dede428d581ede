/**
 * The one place where argv becomes shell text. Commands are built as argv
 * arrays everywhere else; only a transport that must hand a single string to a
 * remote shell (SSH) calls these.
 */

// Characters that never need quoting in a POSIX shell word.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one argument for a POSIX shell: single quotes, with ' spelled '\''. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) {
    // A NUL cannot be passed through a shell at all; refusing beats truncating.
    throw new TypeError('argument contains a NUL byte');
  }
  if (arg !== '' && SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Join argv into one shell command line, each argument quoted. */
export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('empty command');
  // An unquoted first word like NAME=value is a variable assignment, not the command.
  return argv.map((arg, i) => (i === 0 && arg.includes('=') && SAFE_WORD.test(arg) ? `'${arg}'` : shellQuote(arg))).join(' ');
}
