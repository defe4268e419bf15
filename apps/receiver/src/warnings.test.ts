import { createLogger } from '@shoal/service'
import { MemorySink } from '@shoal/service/testing'
import { expect, it } from 'vitest'
import { WARNING_LOG_INTERVAL_MS, WarningLog } from './warnings.js'

it('logs the first warning of each reason, then one per interval with the count not logged', () => {
  const sink = new MemorySink()
  let now = 0
  const log = new WarningLog(createLogger({ name: 't', destination: sink, pretty: false }), () => now)
  for (let i = 0; i < 5; i++) log.warn({ reason: 'bad-crc', address: '10.0.0.1', port: 1 })
  log.warn({ reason: 'truncated' })
  now += WARNING_LOG_INTERVAL_MS
  log.warn({ reason: 'bad-crc' })
  log.warn({ reason: 'truncated' })
  log.warn({ reason: 'truncated' })
  log.flush()
  const records = sink.json()
  expect(records.map((r) => [r.reason, r.notLogged, r.msg])).toEqual([
    ['bad-crc', undefined, 'dropped a datagram (bad-crc)'],
    ['truncated', undefined, 'dropped a datagram (truncated)'],
    ['bad-crc', 4, 'dropped a datagram (bad-crc)'],
    ['truncated', undefined, 'dropped a datagram (truncated)'],
    ['truncated', 1, 'dropped more datagrams (truncated)'],
  ])
  expect(records[0]).toMatchObject({ level: 40, address: '10.0.0.1', port: 1 })
})

it('says a key mismatch once per run, in words, however many frames and intervals follow', () => {
  const sink = new MemorySink()
  let now = 0
  const log = new WarningLog(createLogger({ name: 't', destination: sink, pretty: false }), () => now)
  for (let i = 0; i < 3; i++) {
    log.warn({ reason: 'no-key', address: '10.0.0.7', port: 7400 })
    log.warn({ reason: 'unauthenticated', address: '10.0.0.8', port: 7400 })
    now += 2 * WARNING_LOG_INTERVAL_MS
  }
  log.flush()
  expect(sink.json().map((r) => [r.reason, r.msg])).toEqual([
    ['no-key', 'sealed frames from 10.0.0.7: this receiver has no key (--key-file)'],
    [
      'unauthenticated',
      'unsealed frames from 10.0.0.8: this receiver has a key and takes only sealed frames (does the sender have --key-file?)',
    ],
  ])
})
