/**
 * --raw: plain datagrams to a transport subscriber in raw mode and to a seed-style Python receiver
 * (tools/seed), whose replies the sender prints. Everything on 127.0.0.1.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startCli } from '@shoal/service/testing'
import { createSubscriber, type RawDatagram, type Subscriber } from '@shoal/transport'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { BIN, endpointArgs, LOOPBACK, summaryOf, uniqueEndpoint, waitFor } from './support.js'

const open: Subscriber[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})
const scratch = mkdtempSync(join(tmpdir(), 'shoal-send-raw-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

async function rawSubscriber(endpoint: { group: string; port: number }, reply?: (d: RawDatagram) => Buffer) {
  const sub = await createSubscriber({ ...endpoint, interface: LOOPBACK, raw: true })
  open.push(sub)
  const got: RawDatagram[] = []
  sub.on('raw', (d: RawDatagram) => {
    got.push(d)
    if (reply) void sub.reply(reply(d), d.from)
  })
  return got
}

describe('--raw', () => {
  it('sends each stdin line as one plain datagram and prints the replies', async () => {
    const endpoint = uniqueEndpoint()
    const got = await rawSubscriber(endpoint, (d) => Buffer.concat([Buffer.from('ack:'), d.data]))
    const running = startCli(BIN, [...endpointArgs(endpoint), '--raw', '--ack-timeout', '20s'], {
      input: 'hello\nsecond line\r\n\nthird',
    })
    // Three replies on stdout, one JSON line each, then stop without waiting out the 20 s.
    await running.waitFor(/(?:.*\n){3}/, 'stdout')
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => got.length >= 3, 5000, '3 datagrams')
    expect(got.map((d) => d.data.toString())).toEqual(['hello', 'second line', 'third'])
    const replies = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { from: string; bytes: number; text: string })
    expect(replies.map((r) => r.text)).toEqual(['ack:hello', 'ack:second line', 'ack:third'])
    expect(replies[0]!.from).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(summaryOf(result.stderr).fields).toMatchObject({ datagrams: '3', bytes: '21', replies: '3' })
  })

  it('sends the bytes of an --input file as one datagram, waits --ack-timeout for replies, and exits 0', async () => {
    const endpoint = uniqueEndpoint()
    const got = await rawSubscriber(endpoint)
    const file = join(scratch, 'blob.bin')
    const blob = Buffer.from([0, 1, 2, 0x0a, 0xff, 0xfe])
    writeFileSync(file, blob)
    const running = startCli(BIN, [
      ...endpointArgs(endpoint),
      '--raw',
      '--input',
      file,
      '--ack-timeout',
      '200ms',
    ])
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => got.length >= 1, 5000, 'the datagram')
    expect(got.map((d) => d.data.toString('hex'))).toEqual([blob.toString('hex')])
    expect(result.stderr).toMatch(/waiting 200 ms for replies/)
    expect(summaryOf(result.stderr)).toMatchObject({
      reason: 'end of input',
      fields: { datagrams: '1', bytes: '6', replies: '0' },
    })
  })
})

const seed = (name: string) => fileURLToPath(new URL(`../../../tools/seed/${name}`, import.meta.url))
const python = spawnSync('python3', ['--version']).status === 0
if (!python && process.env.CI === 'true')
  throw new Error('python3 is missing: the seed interop test needs it')

describe.skipIf(!python)('--raw against the seed receiver (tools/seed/mcast_recv.py)', () => {
  it('the seed receiver gets each line, and the sender prints its replies', async () => {
    const endpoint = uniqueEndpoint()
    const recv = spawn(
      'python3',
      [
        seed('mcast_recv.py'),
        endpoint.group,
        String(endpoint.port),
        LOOPBACK,
        '--count',
        '2',
        '--reply',
        '--timeout',
        '10',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    recv.stdout.on('data', (d) => {
      out += d
    })
    const recvExit = new Promise<number | null>((resolve) => recv.on('exit', resolve))
    await waitFor(() => out.includes('ready'), 10_000, 'the seed receiver')
    const running = startCli(BIN, [...endpointArgs(endpoint), '--raw', '--ack-timeout', '20s'], {
      input: 'ping one\nping two\n',
    })
    await running.waitFor(/(?:.*\n){2}/, 'stdout')
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(await recvExit).toBe(0)
    const lines = out.trim().split('\n').slice(1)
    expect(lines.map((l) => Buffer.from(l.split(' ')[2]!, 'hex').toString())).toEqual([
      'ping one',
      'ping two',
    ])
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { text: string }).text),
    ).toEqual(['ack:ping one', 'ack:ping two'])
  })
})
