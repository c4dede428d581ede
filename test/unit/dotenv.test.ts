/**
 * An image source's tag lives in the project's `.env`: reading one value
 * from it, and rewriting that one line through a real `sh` (as the
 * transport runs it) while every other line and the file's mode stay.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setEnvFileVariable } from '../../src/commands/files';
import { InvalidValueError } from '../../src/commands/validate';
import { readEnvFileValue } from '../../src/compose/dotenv';

const run = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });

describe('readEnvFileValue', () => {
  it('reads plain, quoted, exported and commented forms; the last assignment wins', () => {
    assert.equal(readEnvFileValue('TAG=v1\n', 'TAG'), 'v1');
    assert.equal(readEnvFileValue('TAG="v1"', 'TAG'), 'v1');
    assert.equal(readEnvFileValue("TAG='v1'", 'TAG'), 'v1');
    assert.equal(readEnvFileValue('export TAG=v1', 'TAG'), 'v1');
    assert.equal(readEnvFileValue('TAG=v1 # pinned', 'TAG'), 'v1');
    assert.equal(readEnvFileValue('TAG=v1\r\nDB=x\r\nTAG=v2\r\n', 'TAG'), 'v2');
  });

  it('is undefined when the variable is absent, and never confuses a longer name', () => {
    assert.equal(readEnvFileValue('', 'TAG'), undefined);
    assert.equal(readEnvFileValue('MY_TAG=v1\nTAGS=v2\n# TAG=v3\n', 'TAG'), undefined);
  });
});

describe('setEnvFileVariable, run by sh', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'composure-dotenv-'));

  it('replaces the one variable, keeps every other line and the file mode, leaves no temp file', () => {
    const file = path.join(dir, 'keep.env');
    writeFileSync(file, 'DB_PASSWORD=s3cret $x `y`\nTAG=v1\n# a comment\nOTHER="a b"\n');
    chmodSync(file, 0o600);
    run(setEnvFileVariable(file, 'TAG', 'v2.1_rc-1'));
    const text = readFileSync(file, 'utf8');
    assert.equal(text, 'DB_PASSWORD=s3cret $x `y`\n# a comment\nOTHER="a b"\nTAG=v2.1_rc-1\n');
    assert.equal(readEnvFileValue(text, 'TAG'), 'v2.1_rc-1');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('composure-tmp')), []);
  });

  it('creates a missing file, and removes the variable when the tag is undefined', () => {
    const file = path.join(dir, 'new.env');
    run(setEnvFileVariable(file, 'TAG', 'v1'));
    assert.equal(readFileSync(file, 'utf8'), 'TAG=v1\n');
    run(setEnvFileVariable(file, 'TAG', undefined));
    assert.equal(readFileSync(file, 'utf8'), '');
    assert.ok(existsSync(file));
  });

  it('refuses a hostile name, tag or path before building argv', () => {
    for (const tag of ['v1; rm -rf /', '$(id)', 'v1\nDB=x', '', '-v', 'a b']) {
      assert.throws(() => setEnvFileVariable(path.join(dir, '.env'), 'TAG', tag), InvalidValueError, tag);
    }
    for (const name of ['TAG=x', '1TAG', 'T AG', '^.*']) assert.throws(() => setEnvFileVariable(path.join(dir, '.env'), name, 'v1'), InvalidValueError, name);
    assert.throws(() => setEnvFileVariable('relative/.env', 'TAG', 'v1'), InvalidValueError);
  });
});
