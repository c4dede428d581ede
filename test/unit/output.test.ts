import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputTail } from '../../src/transport/output';

test('keeps everything while under the cap', () => {
  const tail = new OutputTail(100);
  tail.push(Buffer.from('hello '));
  tail.push(Buffer.from('wörld'));
  tail.push(Buffer.alloc(0));
  assert.equal(tail.text(), 'hello wörld');
  assert.equal(tail.truncated, false);
});

test('output of exactly maxBytes is kept whole and not marked truncated', () => {
  const tail = new OutputTail(10);
  tail.push(Buffer.from('01234'));
  tail.push(Buffer.from('56789'));
  assert.equal(tail.text(), '0123456789');
  assert.equal(tail.truncated, false);
});

test('keeps exactly the last maxBytes bytes across many chunks and sets truncated', () => {
  const max = 1000;
  const tail = new OutputTail(max);
  let all = '';
  // Chunk sizes vary so the cut falls inside a chunk, on a boundary, and across whole chunks.
  for (let i = 0; i < 500; i++) {
    const chunk = `line ${i} ${'x'.repeat(i % 37)}\n`;
    all += chunk;
    tail.push(Buffer.from(chunk));
    const expected = all.slice(-max);
    assert.equal(tail.text(), expected, `after chunk ${i}`);
    assert.equal(tail.truncated, all.length > max, `truncated after chunk ${i}`);
  }
  assert.equal(Buffer.byteLength(tail.text()), max);
  assert.ok(tail.text().endsWith('line 499 ' + 'x'.repeat(499 % 37) + '\n'));
});

test('one chunk larger than the cap keeps only its tail', () => {
  const tail = new OutputTail(4);
  tail.push(Buffer.from('abcdefghij'));
  assert.equal(tail.text(), 'ghij');
  assert.equal(tail.truncated, true);
  // Later small chunks keep sliding the window.
  tail.push(Buffer.from('kl'));
  assert.equal(tail.text(), 'ijkl');
});

test('the cap counts bytes, not characters', () => {
  const tail = new OutputTail(6);
  tail.push(Buffer.from('aaé')); // 4 bytes
  tail.push(Buffer.from('éé')); // 4 bytes; 8 in all, the last 6 are three é
  assert.equal(tail.text(), 'ééé');
  assert.equal(tail.truncated, true);
});
