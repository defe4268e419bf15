/**
 * Scenario 1, receive side. `raw` counts plain datagrams on a bare socket; `shoal` counts the
 * decoded frames of a subscriber (batched or not: the subscriber unpacks batches) and reports its
 * gap accounting; keyed (`sealed`), the subscriber opens every datagram first.
 */
import { createSocket } from 'node:dgram'
import { createSubscriber } from '@shoal/transport'
import type { SmallReceiverConfig } from '../protocol.js'
import { benchSeal, RAW_SENTINEL, SMALL_TOPIC } from '../samples.js'
import { readConfig } from './io.js'
import { openRawReceiver } from './raw-socket.js'
import { ReceiverTally } from './receiver-tally.js'

const config = readConfig<SmallReceiverConfig>()
const tally = new ReceiverTally(SMALL_TOPIC, config.deadlineMs, 256)

if (config.impl === 'raw') {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  tally.recvBufferBytes = await openRawReceiver(socket, config.group, config.port, config.iface)
  socket.on('message', (data) => {
    if (data.length === RAW_SENTINEL.length) return tally.finish('marker')
    tally.datagramsIn++
    tally.bytes += data.length
    tally.clock.arrived()
  })
} else {
  const subscriber = await createSubscriber({
    group: config.group,
    port: config.port,
    interface: config.iface,
    topics: [SMALL_TOPIC],
    ...(config.sealed ? { seal: benchSeal() } : {}),
  })
  tally.subscriber = subscriber
  tally.recvBufferBytes = subscriber.info.recvBuffer.granted
  subscriber.on('frame', (frame: { sequence: number; payload: Uint8Array }) => {
    // The publisher numbers the burst 0..frames-1; what follows the pause is the end marker.
    if (frame.sequence >= config.frames) return tally.finish('marker')
    tally.bytes += frame.payload.length
    tally.clock.arrived()
  })
}
tally.ready()
