import { type DynamicTypeRegistry, verifySchema } from '@shoal/schema'
import type { RecordingFrame } from './recording-frame.js'

/**
 * Schemas refused, remembered so that each is checked once, not per frame. A file has at most
 * `MCAP_MAX_READ_CHANNELS` channels, so this bounds itself; the cap is for files that lie.
 */
export const MAX_REFUSED_RECORDED_SCHEMAS = 4096

/** What became of a recording's schema: `added` to the registry, or why not. */
export type RecordedSchemaOutcome =
  | { readonly added: true; readonly typeName: string; readonly fingerprint: number }
  | {
      readonly added: false
      readonly typeName: string
      readonly fingerprint: number
      readonly reason: string
    }

/**
 * A frame of a type `types` does not know (not built in, no `--proto`) whose file holds the type's
 * schema (MCAP: the channel's; Shoal's own format, version 2: a schema record) teaches `types` that
 * type, once the schema is checked against the frame's fingerprint (`verifySchema`): so a recording
 * reads back (`shoal-recv --from`) and replays (`shoal-send --replay`, whose publisher then
 * announces it) with no `--proto`. Each schema is tried once; `report` hears what became of it.
 * Returns a function to call with each frame before it is decoded or published.
 */
export function recordedTypeLearner(
  types: DynamicTypeRegistry,
  report: (outcome: RecordedSchemaOutcome) => void,
): (recorded: RecordingFrame) => void {
  const refused = new Set<string>()
  return (recorded) => {
    const { typeName, schemaData, fingerprint } = recorded
    if (typeName === undefined || schemaData === undefined || types.byFingerprint(fingerprint) !== undefined)
      return
    const key = `${fingerprint}\0${typeName}`
    if (refused.has(key)) return
    const verdict = verifySchema(typeName, fingerprint, schemaData)
    const result = verdict.ok ? types.add(verdict.type) : verdict.reason
    if (result === 'added') return report({ added: true, typeName, fingerprint })
    if (refused.size < MAX_REFUSED_RECORDED_SCHEMAS) refused.add(key)
    report({ added: false, typeName, fingerprint, reason: result })
  }
}
