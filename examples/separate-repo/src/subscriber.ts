// Prints every reading that arrives as one JSON line, and exits 0 once `--count` have arrived.
import { uint64ToBigInt } from '@shoal/schema'
import { createSubscriber } from '@shoal/transport'
import { INTERFACE, readOptions } from './options.js'
import { READING_TOPIC, Reading, registry } from './types.js'

const { group, port, count } = readOptions(process.argv.slice(2))
const subscriber = await createSubscriber({
  group,
  port,
  interface: INTERFACE,
  topics: [READING_TOPIC],
  registry,
})
let received = 0
subscriber.on('frame', (frame) => {
  if (frame.typeName !== Reading.typeName) return
  const reading = frame.message as ReturnType<typeof Reading.decode>
  received++
  console.log(
    JSON.stringify({
      topic: frame.topic,
      sequence: frame.sequence,
      type: frame.typeName,
      source: reading.header?.sourceId,
      value: reading.value,
      unit: reading.unit,
      count: uint64ToBigInt(reading.count).toString(),
    }),
  )
  if (received === count) void subscriber.close().then(() => process.exit(0))
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void subscriber.close().then(() => process.exit(received === count ? 0 : 1)))
}
// The publisher may start now: the group is joined.
console.error(`subscribed to ${group}:${port} on ${INTERFACE}, waiting for ${count} readings`)
