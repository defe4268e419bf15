/**
 * Scenario 2, receive side: counts whole 1 MiB images.
 * - raw: puts each image's datagrams together in a fresh 1 MiB buffer (what a bare-socket program
 *   must do to use the image) and counts the complete ones; an image still incomplete when 8 newer
 *   ones have started is given up.
 * - shoal: counts the subscriber's decoded `Image` frames and reports its gap accounting; keyed
 *   (`sealed`), the subscriber opens every fragment first.
 * Both note which of the first EARLY_IMAGES arrived, so loss while the receiver is cold shows apart.
 */
import { createSocket } from 'node:dgram'
import { createSubscriber } from '@shoal/transport'
import { EARLY_IMAGES, type ImageReceiverConfig } from '../protocol.js'
import {
  benchSeal,
  IMAGE_DATA_BYTES,
  IMAGE_TOPIC,
  RAW_IMAGE_CHUNK,
  RAW_IMAGE_HEADER_BYTES,
  RAW_SENTINEL,
} from '../samples.js'
import { readConfig } from './io.js'
import { openRawReceiver } from './raw-socket.js'
import { ReceiverTally } from './receiver-tally.js'

const config = readConfig<ImageReceiverConfig>()
const tally = new ReceiverTally(IMAGE_TOPIC, config.deadlineMs, 1)
const MAX_PARTIAL = 8
const early = new Uint8Array(Math.min(EARLY_IMAGES, config.frames))
const arrived = (frame: number) => {
  if (frame < early.length) early[frame] = 1
}
tally.extra = () => ({ lostEarly: early.length - early.reduce((n, seen) => n + seen, 0) })

if (config.impl === 'raw') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  tally.recvBufferBytes = await openRawReceiver(socket, config.group, config.port, config.iface)
  const partial = new Map<number, { data: Buffer; received: number }>()
  socket.on('message', (datagram) => {
    if (datagram.length === RAW_SENTINEL.length) return tally.finish('marker')
    tally.datagramsIn++
    if (datagram.length < RAW_IMAGE_HEADER_BYTES) return
    const frame = datagram.readUInt32BE(0)
    const index = datagram.readUInt16BE(4)
    const count = datagram.readUInt16BE(6)
    let image = partial.get(frame)
    if (image === undefined) {
      image = { data: Buffer.allocUnsafe(IMAGE_DATA_BYTES), received: 0 }
      partial.set(frame, image)
      if (partial.size > MAX_PARTIAL) partial.delete(partial.keys().next().value!)
    }
    datagram.copy(image.data, index * RAW_IMAGE_CHUNK, RAW_IMAGE_HEADER_BYTES)
    if (++image.received < count) return
    partial.delete(frame)
    arrived(frame)
    tally.bytes += image.data.length
    tally.clock.arrived()
  })
} else {
  const subscriber = await createSubscriber({
    group: config.group,
    port: config.port,
    interface: config.iface,
    topics: [IMAGE_TOPIC],
    ...(config.sealed ? { seal: benchSeal() } : {}),
  })
  tally.subscriber = subscriber
  tally.recvBufferBytes = subscriber.info.recvBuffer.granted
  subscriber.on('frame', (frame: { sequence: number; message: unknown }) => {
    if (frame.sequence >= config.frames) return tally.finish('marker')
    arrived(frame.sequence)
    tally.bytes += (frame.message as { data: Uint8Array }).data.length
    tally.clock.arrived()
  })
}
tally.ready()
