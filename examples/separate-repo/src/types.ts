// This project's message types as Shoal MessageTypes, from the code `npm run generate` wrote into
// gen/ (shoal-codegen over proto/). Nothing here is patched by hand.
import { createRegistry, defineGeneratedType, type MessageType, type TypeRegistry } from '@shoal/schema'
import { demo, descriptor } from '../gen/reading.js'

/** `demo.v1.Reading`: a type Shoal does not ship, sent and received like a built-in one. */
export const Reading: MessageType<demo.v1.IReading> = defineGeneratedType(demo.v1.Reading, descriptor)

/** What the subscriber decodes: only this project's types (a frame of another type is counted, not decoded). */
export const registry: TypeRegistry = createRegistry([Reading])

/** The topic the readings go on. */
export const READING_TOPIC = 'reading'
