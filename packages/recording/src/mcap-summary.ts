import { type McapRecordBuilder, Opcode, type Statistics, type SummaryOffset } from '@mcap/core'
import { crc32 } from '@shoal/transport/wire'
import type { OpenFile } from './mcap-writer.js'

/** Footer record bytes before its CRC field: opcode, record length, summary start, summary offset start. */
const FOOTER_PREFIX_BYTES = 1 + 8 + 8 + 8
/** The footer's content length: summary start, summary offset start, summary CRC. */
const FOOTER_CONTENT_BYTES = 8n + 8n + 4n
const LITTLE_ENDIAN = true

/**
 * Ends a file the way @mcap/core's `McapWriter.end()` does: DataEnd (with the data section's CRC),
 * then the summary (schemas, channels, statistics, chunk indexes, and the offsets of those groups),
 * the footer (with the summary's CRC) and the closing magic. The data section is written already.
 */
export function writeSummary(out: McapRecordBuilder, file: OpenFile, statistics: Statistics): void {
  out.reset()
  out.writeDataEnd({ dataSectionCrc: file.dataCrc })
  file.append(out.buffer, true)
  out.reset()

  const summaryStart = BigInt(file.size)
  const offsets: SummaryOffset[] = []
  const group = (groupOpcode: number, write: () => bigint) => {
    const groupStart = summaryStart + BigInt(out.length)
    const groupLength = write()
    if (groupLength > 0n) offsets.push({ groupOpcode, groupStart, groupLength })
  }
  group(Opcode.SCHEMA, () => file.schemas.reduce((sum, schema) => sum + out.writeSchema(schema), 0n))
  group(Opcode.CHANNEL, () => file.channels.reduce((sum, channel) => sum + out.writeChannel(channel), 0n))
  group(Opcode.STATISTICS, () => out.writeStatistics(statistics))
  group(Opcode.CHUNK_INDEX, () =>
    file.chunkIndexes.reduce((sum, index) => sum + out.writeChunkIndex(index), 0n),
  )
  const summaryOffsetStart = summaryStart + BigInt(out.length)
  for (const offset of offsets) out.writeSummaryOffset(offset)

  // The summary CRC covers the summary and the footer up to the CRC field itself.
  const prefix = new DataView(new ArrayBuffer(FOOTER_PREFIX_BYTES))
  prefix.setUint8(0, Opcode.FOOTER)
  prefix.setBigUint64(1, FOOTER_CONTENT_BYTES, LITTLE_ENDIAN)
  prefix.setBigUint64(9, summaryStart, LITTLE_ENDIAN)
  prefix.setBigUint64(17, summaryOffsetStart, LITTLE_ENDIAN)
  const summaryCrc = crc32(new Uint8Array(prefix.buffer), crc32(out.buffer))
  out.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc })
  out.writeMagic()
  file.append(out.buffer, true)
  out.reset()
}
