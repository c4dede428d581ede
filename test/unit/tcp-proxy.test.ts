/**
 * The test rig's TCP proxy (test/support/tcp-proxy.ts), against an echo
 * server: it forwards, a blackhole lets nothing through in either direction
 * and closes nothing, and resume delivers what was held, in order.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTcpProxy } from '../support/tcp-proxy';

let received = '';
let accepted = 0;
const echo = net.createServer((socket) => {
  accepted++;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString();
    socket.write(chunk);
  });
  socket.on('error', () => {});
});
const ready = new Promise<number>((resolve) => echo.listen(0, '127.0.0.1', () => resolve((echo.address() as net.AddressInfo).port)));
after(() => new Promise<void>((resolve) => echo.close(() => resolve())));

/** A client socket and everything it has been sent back so far. */
async function client(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const state = { socket, echoed: '', closed: false };
  socket.on('data', (chunk: Buffer) => (state.echoed += chunk.toString()));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => {});
  return state;
}

test('forwards, goes silent without closing anything, then delivers what it held in order', async () => {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: await ready });
  try {
    const c = await client(proxy.port);
    c.socket.write('one ');
    await sleep(100);
    assert.equal(c.echoed, 'one ');
    assert.equal(proxy.connections, 1);

    proxy.blackhole();
    c.socket.write('two ');
    c.socket.write('three ');
    await sleep(300);
    assert.equal(received, 'one ', 'nothing reaches the server');
    assert.equal(c.echoed, 'one ');
    assert.equal(c.closed, false, 'and nothing is closed');

    proxy.resume();
    await sleep(200);
    assert.equal(received, 'one two three ');
    assert.equal(c.echoed, 'one two three ');
    c.socket.destroy();
  } finally {
    await proxy.close();
  }
});

test('a connection accepted while blackholed is counted but not dialled through until resume', async () => {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: await ready });
  try {
    const before = accepted;
    proxy.blackhole();
    const c = await client(proxy.port);
    c.socket.write('hello');
    await sleep(300);
    assert.equal(proxy.connections, 1);
    assert.equal(accepted, before, 'the server never saw it');
    proxy.resume();
    await sleep(200);
    assert.equal(accepted, before + 1);
    assert.equal(c.echoed, 'hello');
    c.socket.destroy();
  } finally {
    await proxy.close();
  }
});

test('close destroys the connections through it', async () => {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: await ready });
  const c = await client(proxy.port);
  proxy.blackhole();
  await proxy.close();
  await sleep(100);
  assert.equal(c.closed, true);
});
