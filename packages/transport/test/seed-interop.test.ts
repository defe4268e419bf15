/**
 * Raw mode against programs written like the seed Python tutorials (tools/seed), on loopback
 * (interface 127.0.0.1): Shoal sends plain datagrams they read, reads what they send, and gets
 * their replies.
 */
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createPublisher, createSubscriber, type RawDatagram } from '../src/index.js'
import { closeAfterEach, uniqueEndpoint, waitFor } from './support.js'

const seed = (name: string) => fileURLToPath(new URL(`../../../tools/seed/${name}`, import.meta.url))
const python = spawnSync('python3', ['--version']).status === 0
if (!python && process.env.CI === 'true')
  throw new Error('python3 is missing: the seed interop tests need it')
if (!python) console.warn('skipping seed interop: python3 not found')

const track = closeAfterEach()

function run(script: string, args: string[]) {
  const child = spawn('python3', [seed(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { child, out: () => out, exited }
}

describe.skipIf(!python)('seed interop (raw mode, loopback)', () => {
  it('a seed receiver gets what Shoal sends raw, and its replies reach the Shoal sender', async () => {
    const { group, port } = uniqueEndpoint()
    const recv = run('mcast_recv.py', [
      group,
      String(port),
      '127.0.0.1',
      '--count',
      '3',
      '--reply',
      '--timeout',
      '10',
    ])
    await waitFor(() => recv.out().includes('ready'), 10_000, 'the seed receiver')
    const pub = await track(createPublisher({ group, port, interface: '127.0.0.1' }))
    const replies: RawDatagram[] = []
    pub.on('reply', (r: RawDatagram) => replies.push(r))
    const payloads = [Buffer.from('hello seed'), Buffer.from([0, 1, 2, 255, 254]), Buffer.from('third')]
    for (const p of payloads) await pub.sendRaw(p)
    expect(await recv.exited).toBe(0)
    const lines = recv.out().trim().split('\n').slice(1)
    expect(lines.map((l) => l.split(' ')[2])).toEqual(payloads.map((p) => p.toString('hex')))
    expect(lines[0]!.split(' ')[1]).toBe(String(pub.info.local.port))
    await waitFor(() => replies.length === 3, 5_000, 'the replies')
    expect(replies.map((r) => r.data.toString('hex'))).toEqual(
      payloads.map((p) => Buffer.concat([Buffer.from('ack:'), p]).toString('hex')),
    )
  })

  it('a Shoal raw subscriber prints what a seed sender sends, and the seed sender gets the answer', async () => {
    const { group, port } = uniqueEndpoint()
    const sub = await track(createSubscriber({ group, port, interface: '127.0.0.1', raw: true }))
    const got: RawDatagram[] = []
    sub.on('raw', (d: RawDatagram) => {
      got.push(d)
      void sub.reply(Buffer.from('pong'), d.from)
    })
    const send = run('mcast_send.py', [
      group,
      String(port),
      '127.0.0.1',
      '--hex',
      'deadbeef00',
      '--count',
      '2',
      '--wait',
      '1',
    ])
    expect(await send.exited).toBe(0)
    expect(got.map((d) => d.data.toString('hex'))).toEqual(['deadbeef00', 'deadbeef00'])
    expect(
      send
        .out()
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[2]),
    ).toEqual(['706f6e67', '706f6e67'])
  })
})
