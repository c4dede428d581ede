import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellJoin, shellQuote } from '../../src/commands/quote';

// The shells a joined line may meet: /bin/sh (dash here) and bash, the usual login shell
// that runs an SSH exec request.
const SHELLS = ['/bin/sh', ...(existsSync('/bin/bash') ? ['/bin/bash'] : [])];

/**
 * A scratch area: `work` (the shell's cwd, holding one file so an unquoted * or ? would
 * expand to it) and `bin`, the shell's only PATH. In `bin`, `rm` is a stub that just leaves
 * a marker, so a quoting regression is detected rather than destructive; `touch` is real.
 */
function withSandbox(fn: (sandbox: { work: string; bin: string; rmRan: string }) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'composure-quote-'));
  try {
    const work = join(root, 'work');
    const bin = join(root, 'bin');
    const rmRan = join(root, 'rm-ran');
    mkdirSync(work);
    mkdirSync(bin);
    writeFileSync(join(work, 'zzz'), '');
    writeFileSync(join(bin, 'rm'), `#!/bin/sh\n: > '${rmRan}'\n`);
    chmodSync(join(bin, 'rm'), 0o755);
    symlinkSync(execFileSync('/bin/sh', ['-c', 'command -v touch'], { encoding: 'utf8' }).trim(), join(bin, 'touch'));
    fn({ work, bin, rmRan });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Run the joined line with `shell -c` and return the arguments printf saw, split on NUL. */
function argvThroughShell(shell: string, values: readonly string[], cwd: string, bin: string): string[] {
  // printf is a builtin in dash and bash, so PATH can be just the sandbox's bin.
  const out = execFileSync(shell, ['-c', shellJoin(['printf', '%s\\0', ...values])], {
    cwd,
    env: { PATH: bin, HOME: '/home/someone' },
  });
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 0) {
      parts.push(out.subarray(start, i).toString('utf8'));
      start = i + 1;
    }
  }
  assert.equal(start, out.length, 'output must end with a NUL terminator');
  return parts;
}

test('hostile arguments reach the command byte-for-byte and run nothing', () => {
  withSandbox(({ work: dir, bin, rmRan }) => {
    const marker = (n: number) => join(dir, `pwned${n}`);
    const values = [
      'main; rm -rf /',
      `$(touch ${marker(1)})`,
      `\`touch ${marker(2)}\``,
      `x; touch ${marker(3)}`,
      `x && touch ${marker(4)}`,
      `x | touch ${marker(5)}`,
      `x\ntouch ${marker(6)}`,
      `x > ${marker(7)}`,
      "'",
      "it's",
      "''",
      '"',
      '"$HOME"',
      'a\nb',
      '\n',
      'a\tb',
      'two words',
      ' leading and trailing ',
      '-rf',
      '--',
      '*',
      '?',
      '[a-z]*',
      '~',
      '~/x',
      '$HOME',
      '${HOME}',
      '\\',
      '\\n',
      'é',
      '日本語',
      '🚀',
      '',
      '!',
      '{a,b}',
      '#comment',
      '&',
      '<',
      "'\\''",
    ];
    for (const shell of SHELLS) {
      const got = argvThroughShell(shell, values, dir, bin);
      assert.deepEqual(got, values, `argv through ${shell}`);
      // Byte-for-byte, not just string-equal after decoding.
      assert.deepEqual(
        got.map((v) => Buffer.from(v, 'utf8').toString('hex')),
        values.map((v) => Buffer.from(v, 'utf8').toString('hex')),
      );
    }
    assert.deepEqual(readdirSync(dir), ['zzz'], 'no command substitution, redirection or chained command ran');
    assert.equal(existsSync(rmRan), false, 'rm did not run');
  });
});

test('each hostile value alone is also passed through intact', () => {
  withSandbox(({ work: dir, bin }) => {
    for (const value of ['$(touch pwned)', '`touch pwned`', "'", '', '-n', '*', 'a b']) {
      assert.deepEqual(argvThroughShell('/bin/sh', [value], dir, bin), [value], JSON.stringify(value));
    }
    assert.equal(existsSync(join(dir, 'pwned')), false);
  });
});

test('a first word that looks like an assignment is still the command, not NAME=value', () => {
  withSandbox(({ work: dir }) => {
    const script = join(dir, 'FOO=bar');
    writeFileSync(script, '#!/bin/sh\nprintf "ran:%s\\0" "$@"\n');
    chmodSync(script, 0o755);
    for (const shell of SHELLS) {
      const out = execFileSync(shell, ['-c', shellJoin(['FOO=bar', 'x y'])], {
        cwd: dir,
        env: { PATH: `${dir}:${process.env.PATH ?? ''}` },
      });
      assert.equal(out.toString('utf8'), 'ran:x y\0', shell);
    }
  });
});

test('a NUL byte in an argument throws instead of truncating', () => {
  assert.throws(() => shellQuote('a\0b'), TypeError);
  assert.throws(() => shellJoin(['echo', 'ok', 'x\0']), TypeError);
});

test('an empty argv throws', () => {
  assert.throws(() => shellJoin([]), /empty command/);
});

test('safe words stay unquoted, so command lines remain readable', () => {
  for (const word of ['docker', 'compose', '--project-name', '-p', 'a/b.c:d@e', 'KEY=value', '50%', 'a+b,c', '/srv/app_1']) {
    assert.equal(shellQuote(word), word);
  }
  assert.equal(
    shellJoin(['docker', 'compose', '-p', 'shop', '-f', 'compose.yaml', 'up', '-d']),
    'docker compose -p shop -f compose.yaml up -d',
  );
});

test('unsafe words are single-quoted, with a quote spelled as \'\\\'\'', () => {
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote('$HOME'), "'$HOME'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellJoin(['echo', 'a b', '']), "echo 'a b' ''");
});
