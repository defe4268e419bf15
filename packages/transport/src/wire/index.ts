/** The pure wire codec: no sockets. Byte layout in WIRE.md. */
export * from './ack.js'
export * from './batch.js'
export * from './constants.js'
export { crc32 } from './crc.js'
export * from './fragment.js'
export * from './frame.js'
export * from './header.js'
export * from './sequence.js'
