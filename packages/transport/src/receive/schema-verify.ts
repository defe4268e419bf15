/**
 * A subscriber's schema learner, set up from its options: the default verifier of SCHEMA announces
 * is @shoal/schema's `verifySchema` (the type built from the descriptor set at run time, its
 * fingerprint computed as at build time and compared).
 */
import { verifySchema } from '@shoal/schema'
import type { DropReason } from '../wire/frame.js'
import type { Delivery } from './delivery.js'
import type { SchemaVerifier, SubscriberOptions } from './options.js'
import { type LearnedSchema, SchemaLearner } from './schema-learner.js'

export const defaultVerifier: SchemaVerifier = (typeName, fingerprint, descriptorSet) => {
  const verdict = verifySchema(typeName, fingerprint, descriptorSet)
  return verdict.ok ? { ok: true, type: verdict.type } : { ok: false, reason: verdict.reason }
}

/** What the learner needs of the engine: the `'schema'` event, the way out, the drop counter. */
export interface LearnerHost {
  emit(schema: LearnedSchema): void
  send(datagram: Uint8Array, to: { address: string; port: number }): void
  drop(reason: DropReason, address: string, port: number): void
}

/**
 * The learner for a subscriber with these options, wired to its delivery (which looks learned types
 * up and holds frames for them); undefined when it learns nothing (`schemas: false`, no decoding,
 * raw or forward mode).
 */
export function schemaLearnerFor(
  options: SubscriberOptions,
  receiverSession: number,
  delivery: Delivery,
  host: LearnerHost,
): SchemaLearner | undefined {
  // Without decoding, only when asked for (`schemas` set): a subscriber that passes frames on
  // undecoded (shoal-throttle) learns the types it forwards, to answer for them downstream.
  const schemas = options.schemas ?? options.decode !== false
  if (schemas === false || options.raw || options.forward) return undefined
  const registry = options.registry as { add?: (type: unknown) => void } | undefined
  const learner = new SchemaLearner({
    receiverSession,
    verify: (schemas === true ? undefined : schemas.verify) ?? defaultVerifier,
    known: (fingerprint) => delivery.knows(fingerprint),
    learned: (schema) => {
      // A dynamic registry (@shoal/schema's createDynamicRegistry) gets the type too.
      registry?.add?.(schema.type)
      host.emit(schema)
      delivery.schemaLearned(schema.fingerprint)
    },
    send: host.send,
    drop: host.drop,
    now: () => performance.now(),
  })
  delivery.schemas = learner
  return learner
}
