import type { RecordingFrame } from '@shoal/recording'
import { type DynamicTypeRegistry, formatFingerprint, verifySchema } from '@shoal/schema'
import type { Logger } from '@shoal/service'

/**
 * Schemas refused, remembered so that each is checked once, not per frame. A file has at most
 * `MCAP_MAX_READ_CHANNELS` channels, so this bounds itself; the cap is for files that lie.
 */
export const MAX_REFUSED_SCHEMAS = 4096

/**
 * `--from` a recording: a frame of a type the receiver does not know (not built in, no `--proto`)
 * for which the file holds the type's schema (MCAP: the channel's; Shoal's own format, version 2: a
 * schema record) teaches the receiver that type, once the schema is
 * checked against the frame's fingerprint (`verifySchema`). So a recording of `--proto` types reads
 * back without `--proto`. Returns a function to call before decoding each frame.
 */
export function recordedTypeLearner(types: DynamicTypeRegistry, logger: Logger) {
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
        `type ${typeName} from the recording's schema`,
      )
      return
    }
    if (refused.size < MAX_REFUSED_SCHEMAS) refused.add(key)
    logger.warn(
      { type: typeName, fingerprint: formatFingerprint(fingerprint), reason: result },
      `the recording's schema of ${typeName} is not used: ${result}`,
    )
  }
}
