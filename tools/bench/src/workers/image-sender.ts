/**
 * Scenario 2, send side: `frames` 1 MiB images, one after the other, each as fast as the socket
 * takes it; then a pause and three end markers.
 * - raw: the pixel data in 17 datagrams of at most 65,507 bytes (the IPv4 UDP maximum), each an
 *   8-byte [frame, index, count] header plus a slice of the data, gathered by `socket.send([...])`;
 *   the next image goes when the kernel has taken the last datagram.
 * - shoal: `await publisher.publish('camera', Image, image)` (encode, fragment to the loopback
 *   budget of 65,507 bytes, send with the default pacing).
 * - paced: the same with `createPublisher({ pacing: { bytesPerSecond } })`.
 * - sealed: unpaced with `seal` (the bench's test key, mode `encrypt`): every fragment is sealed
 *   on its own, and so are the receiver's NACKs and STATUS frames.
 */
import { createSocket } from 'node:dgram'
import { Image } from '@shoal/schema'
import { createPublisher, type PublisherOptions } from '@shoal/transport'
import type { ImageSenderConfig, SenderReport } from '../protocol.js'
import {
  benchSeal,
  IMAGE_DATA_BYTES,
  IMAGE_TOPIC,
  imageSample,
  RAW_IMAGE_CHUNK,
  RAW_IMAGE_HEADER_BYTES,
  RAW_SENTINEL,
} from '../samples.js'
import { armDeadline, emit, emitReady, peakRssBytes, readConfig, sleep } from './io.js'
import { openRawSender } from './raw-socket.js'

const config = readConfig<ImageSenderConfig>()
armDeadline(config.deadlineMs, () => {
  emit('error', { message: `sender did not finish within ${config.deadlineMs} ms` })
  process.exit(3)
})
const image = imageSample()
const MARKERS = 3
const MARKER_SPACING_MS = 20
let datagrams = 0
let elapsed = 0n
let repair: SenderReport['repair']

if (config.variant === 'raw') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  await openRawSender(socket, config.iface)
  const data = Buffer.from(image.data!.buffer, image.data!.byteOffset, image.data!.byteLength)
  const count = Math.ceil(IMAGE_DATA_BYTES / RAW_IMAGE_CHUNK)
  const sendFrame = (frame: number) =>
    new Promise<void>((resolve, reject) => {
      for (let index = 0; index < count; index++) {
        // A fresh header per datagram: the send is not done when socket.send() returns.
        const header = Buffer.allocUnsafe(RAW_IMAGE_HEADER_BYTES)
        header.writeUInt32BE(frame, 0)
        header.writeUInt16BE(index, 4)
        header.writeUInt16BE(count, 6)
        const slice = data.subarray(
          index * RAW_IMAGE_CHUNK,
          Math.min((index + 1) * RAW_IMAGE_CHUNK, data.length),
        )
        const last = index === count - 1
        socket.send(
          [header, slice],
          config.port,
          config.group,
          last ? (e) => (e ? reject(e) : resolve()) : undefined,
        )
      }
      datagrams += count
    })
  emitReady()
  const started = process.hrtime.bigint()
  for (let frame = 0; frame < config.frames; frame++) await sendFrame(frame)
  elapsed = process.hrtime.bigint() - started
  await sleep(config.pauseMs)
  for (let i = 0; i < MARKERS; i++) {
    socket.send(RAW_SENTINEL, config.port, config.group)
    await sleep(MARKER_SPACING_MS)
  }
  socket.close()
} else {
  const options: PublisherOptions = {
    group: config.group,
    port: config.port,
    interface: config.iface,
    ttl: 1,
  }
  if (config.variant === 'paced') {
    if (config.bytesPerSecond === undefined) throw new Error('the paced variant needs bytesPerSecond')
    options.pacing = { bytesPerSecond: config.bytesPerSecond }
  }
  if (config.variant === 'sealed') options.seal = benchSeal()
  const publisher = await createPublisher(options)
  emitReady()
  const started = process.hrtime.bigint()
  for (let frame = 0; frame < config.frames; frame++) await publisher.publish(IMAGE_TOPIC, Image, image)
  elapsed = process.hrtime.bigint() - started
  // First sends only: resends are counted apart (repair).
  const sent = publisher.stats()
  datagrams = sent.datagramsOut - sent.repair.fragmentsResent
  await sleep(config.pauseMs)
  for (let i = 0; i < MARKERS; i++) {
    await publisher.publish(IMAGE_TOPIC, Image, image)
    await sleep(MARKER_SPACING_MS)
  }
  // After close(), which waits for the last NACKs: every resend is counted.
  await publisher.close()
  repair = publisher.stats().repair
}
const result: SenderReport = {
  event: 'result',
  sent: config.frames,
  datagrams,
  elapsedNs: Number(elapsed),
  peakRssBytes: peakRssBytes(),
  ...(repair === undefined ? {} : { repair }),
}
emit('result', result)
process.exit(0)
