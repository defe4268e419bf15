/**
 * Scenario 1, send side: `frames` small frames as fast as possible, yielding to the event loop
 * every `chunk` frames; then a pause and three end markers.
 * - raw: the 45 encoded bytes as one datagram each, `socket.send(bytes, port, group)`.
 * - unbatched: `publisher.publish()` per frame (encode, frame, one datagram each).
 * - batched: `publisher.send()` per frame on a publisher with `batch`, then `flush()`.
 */
import { createSocket } from 'node:dgram'
import { Temperature } from '@shoal/schema'
import { createPublisher, type PublisherOptions } from '@shoal/transport'
import { asBatching, type BatchOptions } from '../batching.js'
import type { SenderReport, SmallSenderConfig } from '../protocol.js'
import { RAW_SENTINEL, SMALL_TOPIC, temperatureSample } from '../samples.js'
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

if (config.variant === 'raw') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  let errors = 0
  socket.on('error', () => errors++)
  await openRawSender(socket, config.iface)
  const bytes = Buffer.from(Temperature.encode(message))
  emitReady()
  const started = process.hrtime.bigint()
  for (let sent = 0; sent < config.frames; ) {
    const end = Math.min(config.frames, sent + config.chunk)
    for (; sent < end; sent++) socket.send(bytes, config.port, config.group)
    await yieldToLoop()
  }
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
  const options: PublisherOptions & { batch?: BatchOptions } = {
    group: config.group,
    port: config.port,
    interface: config.iface,
    ttl: 1,
  }
  if (config.variant === 'batched')
    options.batch = config.lingerMs === undefined ? {} : { lingerMs: config.lingerMs }
  const publisher = await createPublisher(options)
  const batching = asBatching(publisher)
  if (config.variant === 'batched' && batching === undefined) {
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
  emitReady()
  const started = process.hrtime.bigint()
  if (batching !== undefined && config.variant === 'batched') {
    for (let sent = 0; sent < config.frames; ) {
      const end = Math.min(config.frames, sent + config.chunk)
      for (; sent < end; sent++) batching.send(SMALL_TOPIC, Temperature, message)
      await yieldToLoop()
    }
    await batching.flush()
  } else {
    const pending: Promise<unknown>[] = []
    for (let sent = 0; sent < config.frames; ) {
      const end = Math.min(config.frames, sent + config.chunk)
      for (; sent < end; sent++) pending.push(publisher.publish(SMALL_TOPIC, Temperature, message))
      await Promise.all(pending)
      pending.length = 0
    }
  }
  const elapsed = process.hrtime.bigint() - started
  const datagrams = publisher.stats().datagramsOut
  await sleep(config.pauseMs)
  for (let i = 0; i < MARKERS; i++) {
    await publisher.publish(SMALL_TOPIC, Temperature, message)
    await sleep(MARKER_SPACING_MS)
  }
  report(config.frames, datagrams, elapsed)
  await publisher.close()
}
process.exit(0)
