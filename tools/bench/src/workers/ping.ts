/**
 * Scenario 3, the measuring end: sends one multicast ping at a time and times the round trip to its
 * unicast pong with process.hrtime.bigint(). The first `warmup` round trips are not counted; a ping
 * unanswered after `timeoutMs` is counted lost and the next one goes.
 * - raw: a bare socket sends [u32 sequence][45-byte Temperature] and matches the echoed sequence.
 * - shoal: a multicast publisher sends a Temperature whose `celsius` is the sequence; a unicast
 *   subscriber on the pong port receives the pong and matches it.
 * - sealed: the same, `send()`, with the publisher and the subscriber keyed (mode `encrypt`).
 */
import { createSocket } from 'node:dgram'
import { Temperature } from '@shoal/schema'
import { createPublisher, createSubscriber } from '@shoal/transport'
import type { PingConfig, PingReport } from '../protocol.js'
import { benchSeal, PING_TOPIC, PONG_TOPIC, temperatureSample } from '../samples.js'
import { armDeadline, emit, emitReady, readConfig } from './io.js'
import { openRawSender } from './raw-socket.js'

const config = readConfig<PingConfig>()
const total = config.warmup + config.pings
const rtts = new Float64Array(config.pings)
let recorded = 0
let sequence = 0
let sentAt = 0n
let lost = 0
let finished = false

function finish(): void {
  if (finished) return
  finished = true
  const sorted = rtts.slice(0, recorded).sort()
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0
  let sum = 0
  for (const v of sorted) sum += v
  const report: PingReport = {
    event: 'result',
    pings: recorded,
    lost,
    p50Us: at(0.5),
    p99Us: at(0.99),
    p999Us: at(0.999),
    minUs: sorted[0] ?? 0,
    maxUs: sorted[sorted.length - 1] ?? 0,
    meanUs: recorded > 0 ? sum / recorded : 0,
  }
  emit('result', report)
  process.exit(0)
}
armDeadline(config.deadlineMs, finish)

/** Records the round trip of the outstanding ping (if `answered` matches it) and sends the next. */
function pong(answered: number, now: bigint, send: () => void): void {
  if (answered !== sequence) return // a late answer to a ping already given up
  if (sequence >= config.warmup) rtts[recorded++] = Number(now - sentAt) / 1_000
  sequence++
  if (sequence >= total) finish()
  else send()
}

let send: () => void
if (config.variant === 'raw') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  await openRawSender(socket, config.iface, config.pongPort)
  const datagram = Buffer.alloc(4 + 45)
  datagram.set(Temperature.encode(temperatureSample()), 4)
  send = () => {
    datagram.writeUInt32BE(sequence, 0)
    sentAt = process.hrtime.bigint()
    socket.send(datagram, config.port, config.group)
  }
  socket.on('message', (data) => pong(data.readUInt32BE(0), process.hrtime.bigint(), send))
} else {
  const seal = config.variant === 'sealed' ? { seal: benchSeal() } : {}
  const subscriber = await createSubscriber({
    mode: 'unicast',
    port: config.pongPort,
    interface: config.iface,
    topics: [PONG_TOPIC],
    ...seal,
  })
  const publisher = await createPublisher({
    group: config.group,
    port: config.port,
    interface: config.iface,
    ttl: 1,
    ...seal,
  })
  const message = temperatureSample()
  publisher.on('warning', (warning: { error?: Error }) => emit('warning', { message: String(warning.error) }))
  send = () => {
    message.celsius = sequence
    sentAt = process.hrtime.bigint()
    if (config.variant !== 'publish') publisher.send(PING_TOPIC, Temperature, message)
    else
      publisher
        .publish(PING_TOPIC, Temperature, message)
        .catch((error: Error) => emit('warning', { message: error.message }))
  }
  subscriber.on('frame', (frame: { message: unknown }) => {
    const now = process.hrtime.bigint()
    pong((frame.message as { celsius: number }).celsius, now, send)
  })
}

// A lost ping or pong would stall the loop: give up on it and go on.
setInterval(() => {
  if (finished || sentAt === 0n) return
  if (Number(process.hrtime.bigint() - sentAt) / 1e6 < config.timeoutMs) return
  lost++
  sequence++
  if (sequence >= total) finish()
  else send()
}, config.timeoutMs / 2).unref()

emitReady()
// The coordinator starts the pings once it has seen `ready` from both ends.
process.stdin.setEncoding('utf8')
process.stdin.once('data', () => send())
