import { mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type IReadable, McapIndexedReader } from '@mcap/core'
import { loadDecompressHandlers } from '@mcap/support'
import { Heartbeat, Imu, type MessageType, Temperature, toUint64 } from '@shoal/schema'
import type { RecordingFrame } from '../src/index.js'

/** A scratch directory, removed by the returned function. */
export function scratch(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-recording-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * Opens a finished MCAP file with @mcap/core's indexed reader (summary, footer and CRCs checked)
 * and @mcap/support's decompression: what a program without Shoal does.
 */
export async function indexedReader(
  path: string,
): Promise<{ reader: McapIndexedReader; close: () => Promise<void> }> {
  const handle = await open(path, 'r')
  const size = (await handle.stat()).size
  const readable: IReadable = {
    size: async () => BigInt(size),
    read: async (offset, length) => {
      const out = new Uint8Array(Number(length))
      await handle.read(out, 0, out.length, Number(offset))
      return out
    },
  }
  const reader = await McapIndexedReader.Initialize({
    readable,
    decompressHandlers: await loadDecompressHandlers(),
  })
  return { reader, close: () => handle.close() }
}

const BASE_NS = 1_700_000_000_000_000_000n

/** A frame as a receiver would record it: payload encoded by Shoal, stamp in its header. */
export function frameOf<T>(
  type: MessageType<T>,
  message: T,
  fields: Partial<RecordingFrame> & { readonly index: number },
): RecordingFrame {
  const { index, ...rest } = fields
  return {
    receivedAtNs: BASE_NS + BigInt(index) * 1_000_000n,
    publishedAtNs: BASE_NS + BigInt(index) * 1_000_000n - 500n,
    sessionId: 0x1234abcd,
    sequence: index,
    fingerprint: type.fingerprint,
    hops: 0,
    topic: 'imu',
    source: '127.0.0.1:40000',
    typeName: type.typeName,
    payload: type.encode(message),
    ...rest,
  }
}

/** A mix of frames: three types, two topics of Imu from two sessions. */
export function mixedFrames(count: number): RecordingFrame[] {
  const frames: RecordingFrame[] = []
  for (let i = 0; i < count; i++) {
    const stamp = toUint64(BASE_NS + BigInt(i) * 1_000_000n - 500n)
    if (i % 3 === 0)
      frames.push(
        frameOf(
          Imu,
          Imu.create({ header: { sourceId: 'imu0', stampNs: stamp }, linearAcceleration: { z: 9.81 + i } }),
          { index: i, sessionId: i % 2 === 0 ? 0x1234abcd : 0x0badcafe },
        ),
      )
    else if (i % 3 === 1)
      frames.push(
        frameOf(
          Temperature,
          Temperature.create({ header: { sourceId: 'thermo0', stampNs: stamp }, celsius: i / 4 }),
          { index: i, topic: 'temperature' },
        ),
      )
    else
      frames.push(
        frameOf(
          Heartbeat,
          Heartbeat.create({ header: { sourceId: 'node', stampNs: stamp }, sequence: toUint64(i) }),
          { index: i, topic: 'heartbeat', hops: 1 },
        ),
      )
  }
  return frames
}

/** Frames without their payload bytes, and the payload as hex: for toEqual on many frames. */
export function comparable(frames: readonly RecordingFrame[]): Record<string, unknown>[] {
  // schemaData: what an MCAP reader adds (the channel's schema), not part of the frame written
  return frames.map(({ payload, schemaData: _schema, ...rest }) => ({
    ...rest,
    payload: Buffer.from(payload).toString('hex'),
  }))
}
