import protobuf from 'protobufjs'
import { descriptor } from './gen/descriptor.js'
import { shoal } from './gen/shoal.js'
import { defineMessageType, type MessageType, type StaticMessageClass } from './message-type.js'
import { createRegistry, type TypeRegistry } from './registry.js'

/** Reflection for the whole shoal.v1 package, built once from the generated JSON descriptor. */
const root = protobuf.Root.fromJSON(descriptor).resolveAll()

function define<T>(staticClass: StaticMessageClass<T>): MessageType<T> {
  const typeName = staticClass.getTypeUrl('').replace(/^\//, '')
  return defineMessageType(staticClass, root.lookupType(typeName))
}

/** `shoal.v1.Imu`: one inertial measurement (orientation, angular velocity, linear acceleration). */
export const Imu: MessageType<shoal.v1.Imu.$Properties> = define(shoal.v1.Imu)
/** `shoal.v1.NavSatFix`: one GNSS position fix. */
export const NavSatFix: MessageType<shoal.v1.NavSatFix.$Properties> = define(shoal.v1.NavSatFix)
/** `shoal.v1.Temperature`: one temperature reading in degrees Celsius. */
export const Temperature: MessageType<shoal.v1.Temperature.$Properties> = define(shoal.v1.Temperature)
/** `shoal.v1.Scalar`: a generic one-number reading with a unit string. */
export const Scalar: MessageType<shoal.v1.Scalar.$Properties> = define(shoal.v1.Scalar)
/** `shoal.v1.Image`: one uncompressed image (may be several MiB). */
export const Image: MessageType<shoal.v1.Image.$Properties> = define(shoal.v1.Image)
/** `shoal.v1.Heartbeat`: node liveness and state. */
export const Heartbeat: MessageType<shoal.v1.Heartbeat.$Properties> = define(shoal.v1.Heartbeat)

/** The frame message types by short name: every shoal.v1 message that carries a `Header`. */
export const types = Object.freeze({ Imu, NavSatFix, Temperature, Scalar, Image, Heartbeat })

/** Registry of {@link types}: what a receiver can decode. */
export const registry: TypeRegistry = createRegistry(Object.values(types))
