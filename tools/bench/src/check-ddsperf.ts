#!/usr/bin/env node
/**
 * Self-check of the ddsperf output parser against output recorded from the real ddsperf 0.10.2
 * (fixtures/ddsperf-0.10.2/, see its README). Not a test suite (the bench has none, and is never
 * part of `pnpm test`): a script, `pnpm --filter @shoal/bench check:ddsperf`, that needs no root and
 * no namespace. It ends with one line "ddsperf parser: N passed, N failed" and exits 1 on a failure.
 */
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  offeredOf,
  parsePingTimeouts,
  parsePingWindows,
  parsePubWindows,
  parseSubWindows,
  roundTripOf,
  throughputOf,
} from './ddsperf-output.js'

const FIXTURES = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'fixtures', 'ddsperf-0.10.2')
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')
/** Rates are sums over a few windows: equal to a part in 10^9 is equal. */
const near = (actual: number, expected: number, what: string) =>
  ok(Math.abs(actual - expected) <= Math.abs(expected) * 1e-9, `${what}: ${actual} ≠ ${expected}`)

const checks: Array<[string, () => void]> = [
  [
    'sub 45 B: one window per second, rss/cpu and discovery lines ignored',
    () => {
      const w = parseSubWindows(fixture('sub-45.txt'))
      strictEqual(w.length, 7)
      deepStrictEqual(w[1], { at: 2.002, size: 45, total: 743_443, lost: 0, delta: 585_565, deltaLost: 0 })
      strictEqual(w[6]!.delta, 0)
    },
  ],
  [
    'sub 45 B: 3 whole windows after the partial first one',
    () => {
      const t = throughputOf(parseSubWindows(fixture('sub-45.txt')), 3)!
      strictEqual(t.timedSamples, 585_565 + 532_557 + 812_589)
      near(t.timedSeconds, 4.0 - 1.0, 'seconds')
      near(t.samplesPerSecond, 1_930_711 / 3.0, 'samples/s')
      near(t.bytesPerSecond, (1_930_711 / 3.0) * 45, 'bytes/s')
      strictEqual(t.delivered, 2_574_753)
      strictEqual(t.lost, 0)
    },
  ],
  [
    'sub: not enough windows yet is undefined, not a short measurement',
    () => {
      const text = fixture('sub-45.txt')
      strictEqual(throughputOf(parseSubWindows(text), 7), undefined)
      strictEqual(throughputOf([], 1), undefined)
      // Only the first (partial) window of data so far.
      const head = text.split('\n').slice(0, 4).join('\n')
      strictEqual(throughputOf(parseSubWindows(`${head}\n`), 1), undefined)
    },
  ],
  [
    'sub 1 MiB: bytes/s from samples × size',
    () => {
      const t = throughputOf(parseSubWindows(fixture('sub-1MiB.txt')), 3)!
      strictEqual(t.size, 1_048_576)
      strictEqual(t.timedSamples, 649 + 651 + 588)
      near(t.timedSeconds, 4.0 - 1.001, 'seconds')
      near(t.bytesPerSecond, (1888 / 2.999) * 1_048_576, 'bytes/s')
      strictEqual(t.delivered, 3072)
    },
  ],
  [
    'sub: a line still being written is not parsed',
    () => {
      const cut =
        '[1] 2.000  size 45 total 10 lost 0 delta 10 lost 0 rate 0.01 kS/s 0.00 Mb/s (0.00 kS/s 0.00 Mb/s)\n[1] 3.000  size 45 tot'
      strictEqual(parseSubWindows(cut).length, 1)
    },
  ],
  [
    'sub: lost samples are read from both counters',
    () => {
      const text =
        '[7] 1.000  size 45 total 100 lost 0 delta 100 lost 0 rate 0.10 kS/s 0.04 Mb/s (0.01 kS/s 0.00 Mb/s)\n' +
        '[7] 2.000  size 45 total 290 lost 10 delta 190 lost 10 rate 0.19 kS/s 0.07 Mb/s (0.03 kS/s 0.01 Mb/s)\n'
      const t = throughputOf(parseSubWindows(text), 1)!
      strictEqual(t.lost, 10)
      strictEqual(t.timedLost, 10)
      strictEqual(t.timedSamples, 190)
    },
  ],
  [
    'pub: written per second with k and no suffix; offered = median of the windows after the first (or the only one)',
    () => {
      const small = parsePubWindows(fixture('pub-45.txt'))
      deepStrictEqual(
        small.map((w) => w.perSecond),
        [527_000, 588_000, 752_000, 559_000],
      )
      strictEqual(offeredOf(small), 588_000)
      const big = parsePubWindows(fixture('pub-1MiB.txt'))
      deepStrictEqual(
        big.map((w) => w.perSecond),
        [649, 654, 611, 569, 587],
      )
      strictEqual(offeredOf(big), (611 + 587) / 2)
      strictEqual(offeredOf(big.slice(0, 1)), 649)
      strictEqual(offeredOf([]), undefined)
    },
  ],
  [
    'ping: half round trips, doubled; the first window is warm-up',
    () => {
      const w = parsePingWindows(fixture('ping-45.txt'))
      strictEqual(w.length, 3)
      deepStrictEqual(w[1], {
        at: 3.0,
        peer: 'vm:12251',
        size: 45,
        meanUs: 114.607,
        minUs: 28.142,
        p50Us: 60.387,
        p90Us: 90.684,
        p99Us: 1735.361,
        maxUs: 3983.109,
        count: 4348,
      })
      const one = roundTripOf(w, 1)!
      near(one.p50Us, 2 * 60.387, 'p50')
      near(one.p99Us, 2 * 1735.361, 'p99')
      near(one.maxUs, 2 * 3983.109, 'max')
      strictEqual(one.roundTrips, 4348)
      const two = roundTripOf(w, 2)!
      near(two.p50Us, 60.387 + 60.438, 'p50 of two windows (median of 2 = mean, doubled)')
      near(two.meanUs, (2 * (114.607 * 4348 + 105.42 * 4725)) / (4348 + 4725), 'count-weighted mean')
      strictEqual(two.roundTrips, 4348 + 4725)
      strictEqual(roundTripOf(w, 3), undefined)
    },
  ],
  [
    'ping: a sublat line (latency seen by a subscriber) and a cut line are not round trips',
    () => {
      const text =
        '[3] 2.000  sublat vm:4 size 45 mean 10.000us min 1.000us 50% 9.000us 90% 12.000us 99% 20.000us max 30.000us cnt 100\n' +
        '[3] 2.000  vm:4 size 45 mean 10.000us min 1.000us 50% 9.000us 90% 12.000us 99% 20.000us max 30.000us cnt 47'
      strictEqual(parsePingWindows(text).length, 0)
    },
  ],
  [
    'ping: timeouts are the last total printed',
    () => {
      strictEqual(parsePingTimeouts(fixture('ping-45.txt')), 0)
      const text =
        '[3] ping timed out (total 1 times) ... sending new ping\n[3] ping timed out (total 4 times) ... sending new ping\n'
      strictEqual(parsePingTimeouts(text), 4)
    },
  ],
]

let passed = 0
let failed = 0
for (const [name, check] of checks) {
  try {
    check()
    passed++
    process.stdout.write(`ok   ${name}\n`)
  } catch (error) {
    failed++
    process.stdout.write(`FAIL ${name}\n     ${(error as Error).message.split('\n').join('\n     ')}\n`)
  }
}
process.stdout.write(`ddsperf parser: ${passed} passed, ${failed} failed\n`)
process.exitCode = failed === 0 ? 0 : 1
