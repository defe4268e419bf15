import type { RecordingFrame } from '@shoal/recording'
import { type DynamicTypeRegistry, formatFingerprint, verifySchema } from '@shoal/schema'
import type { Logger } from '@shoal/service'

/**
 * Schemas refused, remembered so that each is checked once, not per frame. A file has at most
 * `MCAP_MAX_READ_CHANNELS` channels, so this bounds itself; the cap is for files that lie.
 */
export const MAX_REFUSED_RECORDED_SCHEMAS = 4096

/**
 * `--replay` a recording of a type this sender does not know (not built in, no `--proto`): the file
 * holds the type's schema (MCAP: the channel's; Shoal's own format, version 2: a schema record), so
 * it is checked against the frame's fingerprint (`verifySchema`) and added to the sender's types,
 * which its publisher announces in-band: receivers learn the type as from the original publisher.
 * Returns a function to call before publishing each frame.
 */
export function recordedSchemaLearner(types: DynamicTypeRegistry, logger: Logger) {
  const refused = new Set<string>()
  return (recorded: RecordingFrame): void => {
    const { typeName, schemaData, fingerprint } = recorded
    if (typeName === undefined || schemaData === undefined || types.byFingerprint(fingerprint) !== undefined)
      return
    const key = `${fingerprint}\0${typeName}`
    if (refused.has(key)) return
    const verdict = verifySchema(typeName, fingerprint, schemaData)
    const result = verdict.ok ? types.add(verdict.type) : verdict.reason
    if (result === 'added') {
      logger.info(
        { type: typeName, fingerprint: formatFingerprint(fingerprint) },
        `type ${typeName} from the recording's schema: announced to receivers`,
      )
      return
    }
    if (refused.size < MAX_REFUSED_RECORDED_SCHEMAS) refused.add(key)
    logger.warn(
      { type: typeName, fingerprint: formatFingerprint(fingerprint), reason: result },
      `the recording's schema of ${typeName} is not used: ${result}; receivers need --proto for it`,
    )
  }
}
