/**
 * Scenario 1, send side: `frames` small frames, then a pause and three end markers.
 * - raw: the 45 encoded bytes as one datagram each, `socket.send(bytes, port, group)`.
 * - unbatched: `publisher.send()` per frame (encode, frame, one datagram each, no promise), in the
 *   very loop raw runs.
 * - publish: `await publisher.publish()` per frame (a promise per frame, awaited a chunk at a time).
 * - batched: `publisher.send()` per frame on a publisher with `batch`, then `flush()`.
 * - paced: the same publisher, but the frames are offered at `rate` per second: each turn of the
 *   loop sends the frames due by the clock (at most `chunk`), then yields with setImmediate.
 * - sealed: `batched` with `seal` (the bench's test key, mode `encrypt`): every batch datagram is
 *   sealed on its way out, and the receiver's control frames are sealed too.
 * Every loop but `publish` sends at most `chunk` frames back to back and then yields to the event
 * loop with setImmediate: the same structure as raw. Shoal's publishers are flow-controlled by
 * their receivers: a `send()` held back returns BACK_PRESSURED, and the loop waits for `ready()`
 * (raw has no back-pressure: what the receiver has no room for is lost).
 */
import { createSocket } from 'node:dgram'
import { Temperature } from '@shoal/schema'
import { createPublisher, type PublisherOptions } from '@shoal/transport'
import { asBatching, type BatchOptions } from '../batching.js'
import type { SenderReport, SmallSenderConfig } from '../protocol.js'
import { benchSeal, RAW_SENTINEL, SMALL_TOPIC, temperatureSample } from '../samples.js'
import { armDeadline, emit, emitReady, peakRssBytes, readConfig, sleep, yieldToLoop } from './io.js'
import { openRawSender } from './raw-socket.js'

const config = readConfig<SmallSenderConfig>()
armDeadline(config.deadlineMs, () => {
  emit('error', { message: `sender did not finish within ${config.deadlineMs} ms` })
  process.exit(3)
})
const message = temperatureSample()
const MARKERS = 3
const MARKER_SPACING_MS = 20

function report(sent: number, datagrams: number, elapsedNs: bigint): void {
  const result: SenderReport = {
    event: 'result',
    sent,
    datagrams,
    elapsedNs: Number(elapsedNs),
    peakRssBytes: peakRssBytes(),
  }
  emit('result', result)
}

/**
 * `send(n)` sends up to n frames and returns how many it sent (fewer when the receivers' flow
 * control holds the publisher back: the loop then waits for `ready()`); the loop raw and every
 * `send()` variant run.
 */
type SendSome = (n: number) => number
let ready: () => Promise<void> = () => Promise.resolve()

async function fastLoop(send: SendSome): Promise<void> {
  for (let sent = 0; sent < config.frames; ) {
    const n = Math.min(config.chunk, config.frames - sent)
    const done = send(n)
    sent += done
    if (done < n) await ready()
    else await yieldToLoop()
  }
}

/** The frames due at `rate` per second since the start (at most a chunk a turn), then a yield. */
async function pacedLoop(rate: number, send: SendSome): Promise<void> {
  const started = process.hrtime.bigint()
  const nsPerFrame = 1e9 / rate
  for (let sent = 0; sent < config.frames; ) {
    const due = Math.min(
      config.frames,
      Math.floor(Number(process.hrtime.bigint() - started) / nsPerFrame) + 1,
    )
    const n = Math.min(config.chunk, due - sent)
    const done = n > 0 ? send(n) : 0
    sent += done
    if (done < n) await ready()
    else await yieldToLoop()
  }
}

if (config.variant === 'raw') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  let errors = 0
  socket.on('error', () => errors++)
  await openRawSender(socket, config.iface)
  const bytes = Buffer.from(Temperature.encode(message))
  emitReady()
  const started = process.hrtime.bigint()
  await fastLoop((n) => {
    for (let i = 0; i < n; i++) socket.send(bytes, config.port, config.group)
    return n
  })
  const elapsed = process.hrtime.bigint() - started
  await sleep(config.pauseMs)
  for (let i = 0; i < MARKERS; i++) {
    socket.send(RAW_SENTINEL, config.port, config.group)
    await sleep(MARKER_SPACING_MS)
  }
  if (errors > 0) emit('warning', { message: `${errors} send errors` })
  report(config.frames, config.frames, elapsed)
  socket.close()
} else {
  const batched = config.variant === 'batched' || config.variant === 'paced' || config.variant === 'sealed'
  const options: PublisherOptions & { batch?: BatchOptions } = {
    group: config.group,
    port: config.port,
    interface: config.iface,
    ttl: 1,
  }
  if (batched) options.batch = config.lingerMs === undefined ? {} : { lingerMs: config.lingerMs }
  if (config.variant === 'sealed') options.seal = benchSeal()
  const publisher = await createPublisher(options)
  const fast = asBatching(publisher)
  if (fast === undefined && config.variant !== 'publish') {
    emit('result', {
      event: 'result',
      sent: 0,
      datagrams: 0,
      elapsedNs: 0,
      peakRssBytes: 0,
      unavailable: 'publisher.send/flush not in this build',
    })
    process.exit(0)
  }
  let warnings = 0
  publisher.on('warning', () => warnings++)
  // Held back by flow control (send() returns BACK_PRESSURED, -1): stop, wait for ready(), go on.
  const sendFrames = (n: number) => {
    for (let i = 0; i < n; i++) if (fast!.send(SMALL_TOPIC, Temperature, message) < 0) return i
    return n
  }
  if (typeof (publisher as { ready?: unknown }).ready === 'function') ready = () => publisher.ready()
  emitReady()
  const started = process.hrtime.bigint()
  if (config.variant === 'publish') {
    const pending: Promise<unknown>[] = []
    for (let sent = 0; sent < config.frames; ) {
      const end = Math.min(config.frames, sent + config.chunk)
      for (; sent < end; sent++) pending.push(publisher.publish(SMALL_TOPIC, Temperature, message))
      await Promise.all(pending)
      pending.length = 0
    }
  } else {
    if (config.variant === 'paced') {
      if (config.rate === undefined) throw new Error('the paced variant needs a rate')
      await pacedLoop(config.rate, sendFrames)
    } else await fastLoop(sendFrames)
    await fast!.flush()
  }
  const elapsed = process.hrtime.bigint() - started
  const datagrams = publisher.stats().datagramsOut
  await sleep(config.pauseMs)
  for (let i = 0; i < MARKERS; i++) {
    await publisher.publish(SMALL_TOPIC, Temperature, message)
    await sleep(MARKER_SPACING_MS)
  }
  if (warnings > 0) emit('warning', { message: `${warnings} publisher warnings (send failures)` })
  report(config.frames, datagrams, elapsed)
  await publisher.close()
}
process.exit(0)
