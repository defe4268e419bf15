/**
 * @shoal/schema — Shoal's sensor frame messages (`shoal.v1`), their generated codecs, type
 * fingerprints, the type registry, the topic → type map and each type's FileDescriptorSet.
 */
export {
  describedTypeNames,
  fileDescriptorSet,
  PROTOBUF_SCHEMA_ENCODING,
  type ProtobufSchema,
  protobufSchema,
} from './descriptor-set.js'
export {
  type AddResult,
  createDynamicRegistry,
  type DynamicRegistryOptions,
  type DynamicTypeRegistry,
  MAX_DYNAMIC_TYPES,
} from './dynamic-registry.js'
export {
  descriptorSetOf,
  MAX_DESCRIPTOR_DEFINITIONS,
  MAX_DESCRIPTOR_FIELDS_PER_MESSAGE,
  MAX_DESCRIPTOR_SET_BYTES,
  messageTypeFromDescriptorSet,
  SchemaError,
  type SchemaRejection,
  type SchemaVerdict,
  verifySchema,
} from './dynamic-type.js'
export {
  fingerprintOf,
  fingerprintSource,
  formatFingerprint,
  MAX_FINGERPRINT_STEPS,
} from './fingerprint.js'
export { shoal } from './gen/shoal.js'
export { defineGeneratedType } from './generated-type.js'
export { defineMessageType, type MessageType, type StaticMessageClass } from './message-type.js'
export {
  DESCRIPTOR_SET_EXTENSIONS,
  type LoadedProtoTypes,
  loadProtoTypes,
  MAX_PROTO_FILE_BYTES,
  MAX_PROTO_FILES,
  MAX_PROTO_FOLDER_DEPTH,
} from './proto-files.js'
export { createRegistry, type TypeRegistry } from './registry.js'
export { Heartbeat, Image, Imu, NavSatFix, registry, Scalar, Temperature, types } from './shoal-types.js'
export { createTopicMap, DEFAULT_TOPICS, defaultTopics, type TopicMap } from './topics.js'
export { type Long, nowStampNs, toUint64, uint64ToBigInt } from './uint64.js'
