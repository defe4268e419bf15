/**
 * Scenario 3, the far end: answers every multicast ping with a unicast pong to where it came from,
 * until `stop` or the deadline.
 * - raw: echoes the datagram from the same socket (the pinger sends from its pong port).
 * - shoal: a subscriber on the group; each decoded ping is published back, as a new frame on topic
 *   `pong`, by a unicast publisher aimed at the pinger's pong port.
 * - sealed: the same, `send()`, with the subscriber and the publisher keyed (mode `encrypt`).
 */
import { createSocket } from 'node:dgram'
import { Temperature } from '@shoal/schema'
import { createPublisher, createSubscriber } from '@shoal/transport'
import type { PongConfig } from '../protocol.js'
import { benchSeal, PING_TOPIC, PONG_TOPIC } from '../samples.js'
import { armDeadline, emit, emitReady, onStop, readConfig } from './io.js'
import { openRawReceiver } from './raw-socket.js'

const config = readConfig<PongConfig>()
let answered = 0
const done = () => {
  emit('result', { answered })
  process.exit(0)
}
onStop(done)
armDeadline(config.deadlineMs, done)

if (config.variant === 'raw') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  await openRawReceiver(socket, config.group, config.port, config.iface)
  socket.setMulticastInterface(config.iface)
  socket.on('message', (data, from) => {
    answered++
    socket.send(data, from.port, from.address)
  })
} else {
  const seal = config.variant === 'sealed' ? { seal: benchSeal() } : {}
  const subscriber = await createSubscriber({
    group: config.group,
    port: config.port,
    interface: config.iface,
    topics: [PING_TOPIC],
    ...seal,
  })
  const publisher = await createPublisher({
    mode: 'unicast',
    address: config.iface,
    port: config.pongPort,
    interface: config.iface,
    ...seal,
  })
  publisher.on('warning', (warning: { error?: Error }) => emit('warning', { message: String(warning.error) }))
  subscriber.on('frame', (frame: { message: unknown }) => {
    answered++
    const message = frame.message as Parameters<typeof Temperature.encode>[0]
    if (config.variant !== 'publish') publisher.send(PONG_TOPIC, Temperature, message)
    else
      publisher
        .publish(PONG_TOPIC, Temperature, message)
        .catch((error: Error) => emit('warning', { message: error.message }))
  })
}
emitReady()
