/**
 * The default verifier of SCHEMA announces: @shoal/schema's `verifySchema` (the type built from the
 * descriptor set at run time, its fingerprint computed as at build time and compared).
 */
import { verifySchema } from '@shoal/schema'
import type { SchemaVerifier } from './options.js'

export const defaultVerifier: SchemaVerifier = (typeName, fingerprint, descriptorSet) => {
  const verdict = verifySchema(typeName, fingerprint, descriptorSet)
  return verdict.ok ? { ok: true, type: verdict.type } : { ok: false, reason: verdict.reason }
}
