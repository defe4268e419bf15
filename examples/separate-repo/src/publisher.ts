// Publishes `--count` readings on the `reading` topic, then closes (which waits for late repairs).
import { nowStampNs, toUint64 } from '@shoal/schema'
import { createPublisher } from '@shoal/transport'
import { INTERFACE, readOptions } from './options.js'
import { READING_TOPIC, Reading } from './types.js'

const { group, port, count } = readOptions(process.argv.slice(2))
const publisher = await createPublisher({ group, port, interface: INTERFACE })
for (let i = 1; i <= count; i++) {
  await publisher.publish(READING_TOPIC, Reading, {
    header: { sourceId: 'probe0@example', stampNs: nowStampNs() },
    value: 100 + i / 10,
    unit: 'kPa',
    count: toUint64(i),
  })
}
await publisher.close()
console.error(`published ${count} readings to ${group}:${port} on ${INTERFACE}`)
