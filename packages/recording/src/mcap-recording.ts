import { loadCodecs } from './codecs.js'
import { McapRecordWriter, type McapRecordWriterOptions } from './mcap-writer.js'

/** Opens an MCAP recording for writing, once the compression codecs are loaded. */
export async function createMcapWriter(
  path: string,
  options: McapRecordWriterOptions = {},
): Promise<McapRecordWriter> {
  return new McapRecordWriter(path, await loadCodecs(), options)
}
