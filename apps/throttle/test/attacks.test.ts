/**
 * A stranger floods shoal-throttle (the built bundle) from a third namespace host with a plain UDP
 * socket (`fixtures/topic-flood.mjs`): 6,000 topics, each one 60 KB datagram carrying a 1-byte
 * payload, under `--latest '*'` with a tick far away, so every frame is held. The topic table stays
 * at MAX_TOPICS (the least recently heard let go, counted `evicted`), every frame is accounted for
 * in the summary, and memory stays bounded: held frames keep their own byte, not the datagram
 * (before, 4,096 held 1-byte frames kept 240 MB of datagrams alive).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createNetwork, type Network, requireNetns, watchProcess } from '@shoal/netns'
import { requireBuilt } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_TOPICS } from '../src/policy.js'

const netns = requireNetns()
const THROTTLE = fileURLToPath(new URL('../dist/shoal-throttle.js', import.meta.url))
const FLOOD = fileURLToPath(new URL('./fixtures/topic-flood.mjs', import.meta.url))
const MiB = 1024 * 1024
const TOPICS = 6_000
const DATAGRAM_BYTES = 60_000
/**
 * Peak RSS (VmHWM) of the throttle after the flood. Held as the datagrams they came in, the 4,096
 * frames kept would be 4,096 × 60 KB = 234 MiB on top of the process's own (about 70 MiB idle).
 */
const RSS_BOUND = 200 * MiB

const peakRss = (pid: number) =>
  Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024

describe.skipIf(netns.skip)('shoal-throttle under a topic flood from a third host', () => {
  let net: Network

  beforeAll(async () => {
    requireBuilt(THROTTLE)
    net = await createNetwork({ hosts: ['t', 'x'], segments: [{ name: 'lan', hosts: ['t', 'x'] }] })
  }, 30_000)

  afterAll(async () => {
    await net?.destroy()
  })

  it(`keeps ${MAX_TOPICS} topics, counts every frame, and holds only the payloads`, async () => {
    const group = '239.255.61.1'
    const port = '7460'
    const throttle = watchProcess(
      net
        .host('t')
        .node(THROTTLE, [
          ...['--interface', 'v-lan', '--group', group, '--port', port, '--out-group', '239.255.62.1'],
          ...['--latest', '*=0.001', '--http', '0'],
        ]),
      { label: 'shoal-throttle on t' },
    )
    await throttle.waitUntil(
      'ready',
      () => (throttle.stderr().includes('"msg":"ready"') ? true : undefined),
      15_000,
    )
    const flood = watchProcess(
      net
        .host('x')
        .node(FLOOD, [
          ...['--iface', net.host('x').ipv4(), '--to', `${group}:${port}`],
          ...['--topics', String(TOPICS), '--datagram-bytes', String(DATAGRAM_BYTES)],
        ]),
      { label: 'topic-flood on x' },
    )
    const sent = await flood.waitForExit(120_000)
    expect(sent.code).toBe(0)
    expect(JSON.parse(sent.stdout)).toMatchObject({ sent: TOPICS })
    // Let the last datagrams in, then read what the throttle kept at its peak.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const rss = peakRss(throttle.child.pid!)
    throttle.child.kill('SIGTERM')
    const exit = await throttle.waitForExit(15_000)
    expect(exit.code).toBe(0)
    const line = /^shoal-throttle: stopped \(.+?\) after [\d.]+s: (.*)$/m.exec(exit.stderr)?.[1] ?? ''
    const summary = Object.fromEntries(
      [...line.matchAll(/([\w-]+)=(\d+)/g)].map(([, k, v]) => [k!, Number(v)]),
    )
    expect(summary).toMatchObject({
      received: TOPICS,
      published: 0,
      evicted: TOPICS - MAX_TOPICS,
      stopped: MAX_TOPICS,
      memory: 0,
    })
    expect(rss).toBeLessThan(RSS_BOUND)
    console.log(`shoal-throttle peak RSS after the flood: ${(rss / MiB).toFixed(0)} MiB`)
  }, 180_000)
})
