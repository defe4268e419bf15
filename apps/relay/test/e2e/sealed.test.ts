/**
 * Secure groups (issue 11) with the built bundles, every process in a private network namespace:
 *
 *   a (shoal-send) ── lan ── b (shoal-recv, keyed)
 *                      ├──── c (shoal-recv, another key or none)
 *                      ├──── x (a host without the key: tcpdump, plain UDP sockets)
 *                      └──── r (shoal-relay) ── far ── d (shoal-recv)
 *
 * One key file, read by every host (namespaces share the filesystem). Each test has a group of its
 * own. What a stranger can do to a sealed stream is in sealed-attacks.test.ts.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createNetwork, type Network, requireNetns } from '@shoal/netns'
import { sampleValue } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ask, dropsByReason, hasTcpdump, type KeyDir, keyDir, leakedKeys, startCapture } from './keys.js'
import {
  assertBuilt,
  countBy,
  eventually,
  type FrameLine,
  fixtureReady,
  frames,
  type Running,
  scrape,
  scrapeText,
  startFixture,
  startOn,
  stopAll,
  stoppedSummary,
  sumOf,
} from './support.js'

const netns = requireNetns()
const PORT = 7400
/** Loss injected on the relay's input and the far receiver's in the hop-repair test. */
const LOSS = 0.1
const tcpdump = hasTcpdump()
if (!tcpdump && process.env.CI === 'true')
  throw new Error(
    'tcpdump is missing and CI=true forbids skipping the capture test (./dev setup installs it)',
  )

describe.skipIf(netns.skip)('sealed groups: one key file', () => {
  let net: Network
  let keys: KeyDir
  const running: Running[] = []
  let run = 0

  beforeAll(async () => {
    assertBuilt()
    keys = keyDir()
    net = await createNetwork({
      hosts: ['a', 'b', 'c', 'x', 'r', 'd'],
      segments: [
        { name: 'lan', hosts: ['a', 'b', 'c', 'x', 'r'] },
        { name: 'far', hosts: ['r', 'd'] },
      ],
    })
  }, 30_000)

  afterAll(async () => {
    await stopAll(running)
    await net?.destroy()
    keys?.remove()
  })

  const group = () => `239.255.61.${++run}`
  const ip = (host: string) => net.host(host).ipv4()
  const on = (g: string) => ['--interface', 'v-lan', '--group', g, '--port', String(PORT)]

  function start(host: string, app: 'send' | 'recv' | 'relay', args: string[], input?: string) {
    const p = startOn(net.host(host), app, args, { input })
    running.push(p)
    return p
  }

  async function receiver(host: string, g: string, extra: string[]) {
    const p = start(host, 'recv', [...on(g), ...extra])
    await p.waitForLog('ready')
    return p
  }

  /** Per topic, the sequences printed from `address`: each 0..n-1 exactly once. */
  function expectWhole(got: readonly FrameLine[], address: string) {
    const mine = got.filter((f) => f.source.address === address)
    for (const [topic, n] of Object.entries(countBy(mine, (f) => f.topic)))
      expect(
        mine
          .filter((f) => f.topic === topic)
          .map((f) => f.sequence)
          .sort((p, q) => p - q),
        topic,
      ).toEqual([...Array(n).keys()])
    return mine
  }

  const grow = (p: Running, by: number) => {
    const target = frames(p).length + by
    return p.waitUntil(`${target} frames`, () => (frames(p).length >= target ? true : undefined))
  }

  it('keys rotate mid-stream: add key 2 and SIGHUP, then remove key 1 and SIGHUP; no frame lost, the sealing key id moves to 2', async () => {
    const g = group()
    const k1 = keys.key()
    const k2 = keys.key()
    const file = keys.write('rotate.keys', { 1: k1 })
    const b = await receiver('b', g, ['--key-file', file, '--output', 'json', '--http', '0'])
    await b.waitForLog('sealed: encrypt, key id 1')
    // A host without the key, reading the key id of what goes by.
    const x = startFixture(net.host('x'), 'sealed-injector.mjs', [
      '--iface',
      ip('x'),
      '--sniff',
      `${g}:${PORT}`,
    ])
    running.push(x)
    await fixtureReady(x)
    const a = start('a', 'send', [
      ...on(g),
      '--key-file',
      file,
      '--sensors',
      'imu',
      '--rate',
      'imu=500',
      '--http',
      '0',
    ])
    /** The key ids a's /metrics says it seals with. */
    const sealingOnMetrics = async () =>
      [...((await scrape(net.host('a'), a)).get('shoal_sealing_key')?.samples ?? [])].map(
        (s) => s.labels.key_id,
      )
    await a.waitForLog('sealed: encrypt, key id 1')
    await grow(b, 200)
    const keyIdsOnTheWire = async () => (await ask<{ keyIds: number[] }>(x, 'capture 20')).keyIds
    expect(await keyIdsOnTheWire()).toEqual([1])
    expect(await sealingOnMetrics()).toEqual(['1'])

    // Add key 2 everywhere; receivers first, so that nothing sealed with 2 finds one without it.
    keys.write('rotate.keys', { 1: k1, 2: k2 })
    b.child.kill('SIGHUP')
    await b.waitForLog('keys reloaded: key ids 1, 2; sealing with 2')
    a.child.kill('SIGHUP')
    await a.waitForLog('keys reloaded: key ids 1, 2; sealing with 2')
    await grow(b, 200)
    expect(await keyIdsOnTheWire()).toEqual([2])
    expect(await sealingOnMetrics()).toEqual(['2'])

    // Remove key 1: nothing seals with it any more.
    keys.write('rotate.keys', { 2: k2 })
    a.child.kill('SIGHUP')
    await a.waitForLog('keys reloaded: key ids 2; sealing with 2')
    b.child.kill('SIGHUP')
    await b.waitForLog('keys reloaded: key ids 2; sealing with 2')
    await grow(b, 200)
    expect(await keyIdsOnTheWire()).toEqual([2])

    const sent = stoppedSummary(await a.stop())
    await b.waitUntil(`${sent.frames} frames`, () =>
      frames(b).length >= Number(sent.frames) ? true : undefined,
    )
    expect(expectWhole(frames(b), ip('a'))).toHaveLength(Number(sent.frames))
    const metrics = await scrape(net.host('b'), b)
    // Not one datagram refused by the receiver. The sender may have refused a few of the receiver's
    // control frames (STATUS, NACKs), sealed with key 2 between the receiver's SIGHUP and its own:
    // those are sent again, and cost no frame.
    expect(sumOf(metrics, 'shoal_drops_total')).toBe(0)
    expect(String(sent.refused ?? 'unknown-key:0')).toMatch(/^unknown-key:\d+$/)
    expect(sent.keyId).toBe(2)
    const summary = stoppedSummary(await b.stop())
    expect(summary).toMatchObject({ frames: sent.frames, drops: 0, keyId: 2 })
    // The sender said which key sealed, at each step, and never a key.
    const said = a
      .logs()
      .map((l) => l.msg)
      .filter((m) => /^(sealed:|keys reloaded)/.test(String(m)))
    expect(said).toEqual([
      'sealed: encrypt, key id 1',
      'keys reloaded: key ids 1, 2; sealing with 2',
      'keys reloaded: key ids 2; sealing with 2',
    ])
    expect(leakedKeys([a.stderr(), a.stdout(), b.stderr(), b.stdout()], [k1, k2])).toEqual([])
    x.child.stdin.end('quit\n')
  }, 90_000)

  it('refuses a key file open to group or others, a malformed one (naming the line), --seal without a key, and --raw with one: exit 2', async () => {
    const hex = keys.key()
    const open = keys.write('open.keys', { 1: hex }, 0o640)
    const bad = join(keys.path, 'bad.keys')
    writeFileSync(bad, `# keys\n1 ${hex}\n2 ${hex.slice(2)}\n`, { mode: 0o600 })
    const good = keys.write('good.keys', { 1: hex })
    const cases: [app: 'send' | 'recv' | 'relay', args: string[], message: RegExp][] = [
      [
        'send',
        ['--key-file', open],
        new RegExp(`--key-file ${open} is open to group or others \\(mode 0640\\).*chmod 600 ${open}`),
      ],
      ['recv', ['--key-file', open], /chmod 600/],
      [
        'relay',
        ['--in', 'udp://127.0.0.1:7401', '--out', 'unicast://127.0.0.1:7402', '--key-file', open],
        /chmod 600/,
      ],
      [
        'relay',
        [
          '--in',
          'udp://127.0.0.1:7401',
          '--out',
          'unicast://127.0.0.1:7402',
          '--key-file',
          good,
          '--out-key-file',
          open,
        ],
        /--out-key-file .*chmod 600/,
      ],
      [
        'send',
        ['--key-file', bad],
        new RegExp(`invalid --key-file ${bad}:3: key 2: expected 64 hex characters`),
      ],
      ['recv', ['--key-file', bad], new RegExp(`${bad}:3:`)],
      ['send', ['--seal', 'authenticate'], /--seal authenticate needs --key-file/],
      [
        'relay',
        ['--in', 'udp://127.0.0.1:7401', '--out', 'unicast://127.0.0.1:7402', '--seal', 'encrypt'],
        /--seal encrypt needs --key-file/,
      ],
      [
        'send',
        ['--key-file', good, '--seal', 'scramble'],
        /invalid --seal scramble: expected one of encrypt, authenticate/,
      ],
      ['send', ['--raw', '--key-file', good], /--raw sends other programs' bytes/],
      ['recv', ['--raw', '--key-file', good], /--raw prints datagrams undecoded/],
      [
        'relay',
        ['--in', 'udp://127.0.0.1:7401', '--out', 'unicast://127.0.0.1:7402', '--out-key-file', good],
        /--out-key-file needs --key-file/,
      ],
      [
        'send',
        ['--key-file', join(keys.path, 'missing.keys')],
        /cannot read --key-file .*missing\.keys: no such file/,
      ],
    ]
    const outputs: string[] = []
    for (const [app, args, message] of cases) {
      const exit = await start('a', app, args).exited()
      outputs.push(exit.stdout, exit.stderr)
      expect(exit.code, `${app} ${args.join(' ')}: ${exit.stderr}`).toBe(2)
      expect(exit.stderr, `${app} ${args.join(' ')}`).toMatch(message)
    }
    // --help of every service, and every refusal: no key in them.
    for (const app of ['send', 'recv', 'relay'] as const)
      outputs.push((await start('a', app, ['--help']).exited()).stdout)
    expect(leakedKeys(outputs, keys.made)).toEqual([])
  }, 60_000)

  it('--new-key writes a 0600 key file once (never over it), and sender and receiver use it', async () => {
    const file = join(keys.path, 'made.keys')
    const made = await start('a', 'send', ['--new-key', file]).exited()
    expect(made.code).toBe(0)
    expect(made.stdout).toBe(`wrote ${file}: key id 1, mode 0600\n`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const again = await start('b', 'recv', ['--new-key', file, '--new-key-id', '2']).exited()
    expect(again.code).toBe(2)
    expect(again.stderr).toContain(`--new-key ${file} exists`)

    const g = group()
    const b = await receiver('b', g, ['--key-file', file, '--output', 'json', '--http', '0'])
    const a = start('a', 'send', [
      ...on(g),
      '--key-file',
      file,
      '--sensors',
      'imu,gps',
      '--count',
      '300',
      '--http',
      '0',
    ])
    await a.waitForLog('ready')
    const metricsA = await scrapeText(net.host('a'), a)
    const sent = stoppedSummary(await a.exited())
    await b.waitUntil('300 frames', () => (frames(b).length >= 300 ? true : undefined))
    expect(expectWhole(frames(b), ip('a'))).toHaveLength(Number(sent.frames))
    const metricsB = await scrapeText(net.host('b'), b)
    const exitB = await b.stop()
    expect(stoppedSummary(exitB)).toMatchObject({ frames: 300, drops: 0 })
    const secret = /^1 ([0-9a-f]{64})$/m.exec(readFileSync(file, 'utf8'))![1]!
    expect(
      leakedKeys(
        [
          made.stdout,
          made.stderr,
          again.stderr,
          a.stderr(),
          a.stdout(),
          exitB.stderr,
          exitB.stdout,
          metricsA,
          metricsB,
        ],
        [secret],
      ),
    ).toEqual([])
  }, 60_000)

  it('a receiver without the key shows no sealed frame, counts them all as no-key and says so once; a keyed one hearing plain frames says so too', async () => {
    const g = group()
    const file = keys.write('nokey.keys', { 3: keys.key() })
    const c = await receiver('c', g, ['--output', 'json', '--http', '0'])
    const count = 400
    const a = start('a', 'send', [
      ...on(g),
      '--key-file',
      file,
      '--sensors',
      'imu',
      '--rate',
      'imu=400',
      '--count',
      String(count),
    ])
    const sent = stoppedSummary(await a.exited())
    const datagrams = Number(sent.datagrams) + Number(sent.heartbeats ?? 0)
    const metrics = await eventually(
      `c to read the ${datagrams} sealed datagrams`,
      () => scrape(net.host('c'), c),
      (m) => sampleValue(m, 'shoal_datagrams_total', { direction: 'in' }) >= datagrams,
    )
    expect(sampleValue(metrics, 'shoal_drops_total', { reason: 'no-key' })).toBe(datagrams)
    expect(frames(c)).toEqual([])
    const summary = stoppedSummary(await c.stop())
    expect(summary).toMatchObject({ frames: 0, drops: datagrams, dropsByReason: { 'no-key': datagrams } })
    const said = c.logs().filter((l) => /sealed frames from/.test(String(l.msg)))
    expect(said.map((l) => l.msg)).toEqual([
      `sealed frames from ${ip('a')}: this receiver has no key (--key-file)`,
    ])

    // The other way round: a keyed receiver, a sender without a key.
    const g2 = group()
    const b = await receiver('b', g2, ['--key-file', file, '--output', 'json', '--http', '0'])
    const plain = stoppedSummary(
      await start('a', 'send', [
        ...on(g2),
        '--sensors',
        'imu',
        '--rate',
        'imu=400',
        '--count',
        String(count),
      ]).exited(),
    )
    const plainDatagrams = Number(plain.datagrams) + Number(plain.heartbeats ?? 0)
    await eventually(
      'b to refuse every plain datagram',
      () => scrape(net.host('b'), b),
      (m) => sampleValue(m, 'shoal_drops_total', { reason: 'unauthenticated' }) === plainDatagrams,
    )
    expect(frames(b)).toEqual([])
    expect(stoppedSummary(await b.stop())).toMatchObject({
      frames: 0,
      dropsByReason: { unauthenticated: plainDatagrams },
    })
    expect(b.logs().filter((l) => /^unsealed frames from/.test(String(l.msg)))).toHaveLength(1)
  }, 60_000)

  it('a relay without the key forwards sealed frames as they are, and the acks coming back; it says it cannot repair them hop by hop', async () => {
    const g = group()
    const hex = keys.key()
    const file = keys.write('relayed.keys', { 1: hex })
    const r = start('r', 'relay', [
      '--in',
      `multicast://${g}:${PORT}?interface=v-lan`,
      '--out',
      `multicast://${g}:${PORT}?interface=v-far`,
      '--hop-repair',
      '--http',
      '0',
    ])
    await r.waitForLog('ready')
    const d = start('d', 'recv', [
      '--interface',
      'v-far',
      '--group',
      g,
      '--port',
      String(PORT),
      '--key-file',
      file,
      '--output',
      'json',
      '--ack',
      '--name',
      'd',
    ])
    await d.waitForLog('ready')
    const count = 300
    const a = start('a', 'send', [
      ...on(g),
      '--key-file',
      file,
      '--sensors',
      'imu,camera',
      '--rate',
      'imu=300,camera=10',
      '--camera-size',
      '160x120',
      '--count',
      String(count),
      '--expect',
      'd',
    ])
    const sent = stoppedSummary(await a.exited(30_000))
    await d.waitUntil(`${count} frames`, () => (frames(d).length >= count ? true : undefined))
    expect(expectWhole(frames(d), net.host('r').ipv4('far'))).toHaveLength(count)
    expect(sent).toMatchObject({ frames: count, acked: `d:${count}`, unacked: 0 })
    // What the relay cannot read, d's sealed STATUS to its output, it refuses (no-key), and says
    // so once.
    const refused = dropsByReason(await scrape(net.host('r'), r))
    expect(Object.keys(refused)).toEqual(['no-key'])
    const relayed = stoppedSummary(await r.stop())
    expect(relayed).toMatchObject({ invalid: refused['no-key'] })
    // Every ack went back (and any sealed repair request d sent: counted with them); what the
    // relay dropped were copies of frames resent for those requests.
    expect(Number(relayed.acks)).toBeGreaterThanOrEqual(count)
    expect(relayed.dropped).toBe(relayed.duplicate)
    expect(Number(relayed.forwarded)).toBeGreaterThan(0)
    expect(r.logs().filter((l) => /this relay has no key/.test(String(l.msg)))).toHaveLength(1)
    // It cannot seal its own repair requests: it says so, once.
    expect(r.logs().filter((l) => /--hop-repair cannot ask their senders/.test(String(l.msg)))).toHaveLength(
      1,
    )
    expect(r.logs().some((l) => /^sealed:/.test(String(l.msg)))).toBe(false)
    expect(stoppedSummary(await d.stop())).toMatchObject({ frames: count, drops: 0 })
  }, 60_000)

  it('a relay without the key cannot filter topics inside an encrypted batch: it drops it (counted) and says so once', async () => {
    const g = group()
    const file = keys.write('filtered.keys', { 1: keys.key() })
    const r = start('r', 'relay', [
      '--in',
      `multicast://${g}:${PORT}?interface=v-lan`,
      '--out',
      `multicast://${g}:${PORT}?interface=v-far`,
      '--topic',
      'imu',
    ])
    await r.waitForLog('ready')
    const a = start('a', 'send', [
      ...on(g),
      '--key-file',
      file,
      '--sensors',
      'imu,gps',
      '--rate',
      'imu=1000,gps=100',
      '--count',
      '500',
    ])
    expect(stoppedSummary(await a.exited())).toMatchObject({ frames: 500 })
    await r.waitForLog(/^encrypted batches pass this relay, which has no key/)
    const relayed = stoppedSummary(await r.stop())
    expect(Number(relayed.filtered)).toBeGreaterThan(0)
    expect(r.logs().filter((l) => /^encrypted batches pass/.test(String(l.msg)))).toHaveLength(1)
  }, 60_000)

  it("a relay with both sites' keys opens, checks and seals again: the far site holds only its own key", async () => {
    const g = group()
    const here = keys.write('site-a.keys', { 1: keys.key() })
    const there = keys.write('site-b.keys', { 5: keys.key() })
    const r = start('r', 'relay', [
      '--in',
      `multicast://${g}:${PORT}?interface=v-lan`,
      '--out',
      `multicast://${g}:${PORT}?interface=v-far`,
      '--key-file',
      here,
      '--out-key-file',
      there,
      '--http',
      '0',
    ])
    await r.waitForLog('sealed: encrypt, key id 1 in, key id 5 out')
    await r.waitForLog('ready')
    const d = start('d', 'recv', [
      '--interface',
      'v-far',
      '--group',
      g,
      '--port',
      String(PORT),
      '--key-file',
      there,
      '--output',
      'json',
    ])
    await d.waitForLog('ready')
    // On site a, a receiver with only site b's key hears a's frames and can open none.
    const b = await receiver('b', g, ['--key-file', there, '--output', 'json', '--http', '0'])
    const count = 300
    const a = start('a', 'send', [
      ...on(g),
      '--key-file',
      here,
      '--sensors',
      'imu,camera',
      '--rate',
      'imu=300,camera=10',
      '--camera-size',
      '160x120',
      '--count',
      String(count),
    ])
    const sent = stoppedSummary(await a.exited(30_000))
    expect(sent).toMatchObject({ frames: count })
    await d.waitUntil(`${count} frames`, () => (frames(d).length >= count ? true : undefined))
    expect(expectWhole(frames(d), net.host('r').ipv4('far'))).toHaveLength(count)
    expect(frames(b)).toEqual([])
    const refused = sampleValue(await scrape(net.host('b'), b), 'shoal_drops_total', {
      reason: 'unknown-key',
    })
    expect(refused).toBe(Number(sent.datagrams) + Number(sent.heartbeats ?? 0))
    await b.stop()
    expect(stoppedSummary(await d.stop())).toMatchObject({ frames: count, drops: 0 })
    // /metrics shows both sealing key ids (never a key).
    const relayMetrics = await scrapeText(net.host('r'), r)
    expect(relayMetrics).toMatch(/^shoal_sealing_key\{key_id="1"\} 1$/m)
    expect(relayMetrics).toMatch(/^shoal_sealing_key\{key_id="5"\} 1$/m)
    expect(leakedKeys([relayMetrics, r.stderr()], keys.made)).toEqual([])
    // SIGHUP re-reads both files.
    r.child.kill('SIGHUP')
    await r.waitForLog(
      'keys reloaded: key ids 1; sealing with 1 (--key-file); key ids 5; sealing with 5 (--out-key-file)',
    )
    await r.stop()
  }, 60_000)

  it('a relay with the key repairs sealed streams hop by hop under 10 % loss on both segments, and passes the acks back', async () => {
    const g = group()
    const file = keys.write('hop.keys', { 2: keys.key() })
    const r = start('r', 'relay', [
      '--in',
      `multicast://${g}:${PORT}?interface=v-lan`,
      '--out',
      `multicast://${g}:${PORT}?interface=v-far`,
      '--key-file',
      file,
      '--hop-repair',
    ])
    await r.waitForLog('ready')
    const far = ['--interface', 'v-far', '--group', g, '--port', String(PORT), '--key-file', file]
    const d = start('d', 'recv', [...far, '--output', 'json', '--ack', '--name', 'd'])
    await d.waitForLog('ready')
    const count = 400
    const a = start('a', 'send', [
      ...on(g),
      '--key-file',
      file,
      '--sensors',
      'imu,camera',
      '--rate',
      'imu=100,camera=5',
      '--camera-size',
      '64x48',
      '--count',
      String(count),
      '--expect',
      'd',
      '--ack-timeout',
      '3s',
    ])
    await a.waitForLog('ready')
    // The first frames go through before the loss: a receiver cannot ask for what came before
    // the first frame it saw.
    await d.waitUntil('the first frames', () => (frames(d).length >= 10 ? true : undefined))
    let sent: Record<string, unknown>
    try {
      await net.injectLoss('r', LOSS, { segment: 'lan' })
      await net.injectLoss('d', LOSS)
      sent = stoppedSummary(await a.exited(40_000))
    } finally {
      await net.clearLoss('r')
      await net.clearLoss('d')
    }
    await d.waitUntil(`${count} frames`, () => (frames(d).length >= count ? true : undefined))
    expect(expectWhole(frames(d), net.host('r').ipv4('far'))).toHaveLength(count)
    expect(sent).toMatchObject({ frames: count, acked: `d:${count}`, unacked: 0 })
    expect(Number(sent.nacks), 'the relay asked the sender for what it lost').toBeGreaterThan(0)
    expect(sent.refused).toBeUndefined()
    const summary = stoppedSummary(await d.stop())
    expect(summary).toMatchObject({ frames: count, gaps: 0, drops: 0 })
    expect(Number(summary.nacks), 'd asked the relay for what it lost').toBeGreaterThan(0)
    expect(stoppedSummary(await r.stop())).toMatchObject({ invalid: 0, acks: count })
  }, 90_000)

  describe.skipIf(!tcpdump)('tcpdump of the segment', () => {
    it.each([
      { seal: 'encrypt', visible: false },
      { seal: 'authenticate', visible: true },
    ])(
      '--seal $seal: a known message is in the capture: $visible',
      async ({ seal, visible }) => {
        const g = group()
        const hex = keys.key()
        const file = keys.write(`capture-${seal}.keys`, { 9: hex })
        const canary = `CANARY-${seal}-${Math.random().toString(36).slice(2, 10)}-SHOAL`
        // 50 small messages (batched: one datagram sealed for several) and one of about 6 KB
        // (fragments, each sealed on its own).
        const units = [...Array(50).fill(canary), canary.repeat(200)]
        const lines = units.map((unit, i) =>
          JSON.stringify({ topic: 'canary', type: 'Scalar', message: { value: i, unit } }),
        )
        const b = await receiver('b', g, ['--key-file', file, '--output', 'json'])
        const capture = await startCapture(net.host('a'), 'v-lan', PORT)
        const a = start(
          'a',
          'send',
          [...on(g), '--key-file', file, '--seal', seal, '--input', '-'],
          `${lines.join('\n')}\n`,
        )
        await a.waitForLog(`sealed: ${seal}, key id 9`)
        const sent = stoppedSummary(await a.exited())
        expect(sent.frames).toBe(units.length)
        await b.waitUntil('every frame', () => (frames(b).length >= units.length ? true : undefined))
        const { pcap, packets } = await capture.stop()
        await b.stop()
        // The receiver with the key read every message.
        expect(frames(b).map((f) => f.message.unit)).toEqual(units)
        // The capture holds the stream (the sender's datagrams at least), and the message only when
        // it was sent readable.
        expect(packets).toBeGreaterThanOrEqual(Number(sent.datagrams))
        expect(pcap.length).toBeGreaterThan(Number(sent.bytes))
        expect(pcap.includes(Buffer.from(canary)), 'canary in the capture').toBe(visible)
        expect(leakedKeys([pcap], [hex])).toEqual([])
      },
      60_000,
    )
  })
})
