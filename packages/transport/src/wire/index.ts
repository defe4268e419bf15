/** The pure wire codec: no sockets. Byte layout in WIRE.md. */

/** The loss tracker moved to `receive/` (it keeps state); still exported here for those who took it from the wire. */
export * from '../receive/sequence.js'
export * from './ack.js'
export * from './batch.js'
export * from './constants.js'
export { crc32 } from './crc.js'
export * from './fragment.js'
export * from './frame.js'
export * from './header.js'
export * from './heartbeat.js'
export * from './nack.js'
export * from './nack-frames.js'
export * from './schema.js'
export * from './seal.js'
export * from './slab.js'
export * from './status.js'
