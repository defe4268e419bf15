/**
 * Scenario 4, no sockets: messages per second of each codec step on the 45-byte Temperature.
 * - pbEncode / pbDecode: the generated protobufjs codec alone (`Temperature.encode` / `decode`).
 * - shoalEncode: `FrameSlab.encodeFrame` (header and message written in place into a slab, CRC:
 *   what `send()` and `publish()` do for a message that fits one datagram).
 * - shoalFragment: encode + `fragmentMessage` (the fragmenting API that returns whole frames; the
 *   publisher itself sends larger messages with `fragmentParts`).
 * - shoalEncodeInto: encode + `encodeFrameInto` a reused buffer (encode, then copy into a frame).
 * - shoalBatch: `BatchBuilder.appendMessage` (the message encoded in place in the batch, no CRC per
 *   frame) and, whenever the batch is full, `finish()` (the outer header and one CRC over the whole
 *   batch): what a batching publisher does.
 * - shoalDecode: `decodeFrame` (header, length and CRC checks) + decode, per frame.
 * - shoalBatchDecode: `decodeFrame` once per batch datagram (one CRC over the batch), then
 *   `forEachInnerFrame` + decode per frame: what a subscriber does with a batch.
 * Each row is warmed up, then timed over `messages` iterations, one after the other, in a fresh process per run.
 * Then the per-datagram crypto rows (./crypto-rows.ts): AES-256-GCM seal and open as the transport
 * seals, Ed25519 sign and verify, each timed for `cryptoMs`.
 */
import { Temperature } from '@shoal/schema'
import {
  BatchBuilder,
  batchEntryLength,
  decodeFrame,
  encodeFrameInto,
  encodeTopic,
  encodeWholeFrame,
  FrameKind,
  FrameSlab,
  forEachInnerFrame,
  fragmentMessage,
} from '@shoal/transport/wire'
import type { CodecConfig, CodecReport, CodecRow } from '../protocol.js'
import { MAX_UDP_PAYLOAD, SMALL_TOPIC, temperatureSample } from '../samples.js'
import { cryptoSink, measureCrypto } from './crypto-rows.js'
import { armDeadline, emit, emitReady, readConfig } from './io.js'

const config = readConfig<CodecConfig>()
armDeadline(config.deadlineMs, () => {
  emit('error', { message: `codec bench did not finish within ${config.deadlineMs} ms` })
  process.exit(3)
})

const SESSION = 0x12345678
const message = temperatureSample()
const encoded = Temperature.encode(message).slice()
const topicBytes = encodeTopic(SMALL_TOPIC)
const header = {
  kind: FrameKind.DATA,
  flags: 0,
  hops: 0,
  topic: SMALL_TOPIC,
  sessionId: SESSION,
  sequence: 0,
  fingerprint: Temperature.fingerprint,
  extensionLength: 0,
}
const frame = encodeWholeFrame(0, 0, SESSION, 0, Temperature.fingerprint, topicBytes, encoded)
const scratch = new Uint8Array(MAX_UDP_PAYLOAD)
const entryLength = batchEntryLength(topicBytes.length, encoded.length)

/** One full batch datagram of the loopback budget, as a batching publisher sends it. */
function fullBatch(): { datagram: Uint8Array; frames: number } {
  const builder = new BatchBuilder(MAX_UDP_PAYLOAD)
  let sequence = 0
  while (builder.fits(entryLength))
    builder.append(0, 0, SESSION, sequence++, Temperature.fingerprint, topicBytes, encoded)
  return { datagram: builder.finish(SESSION, 0), frames: sequence }
}
const batch = fullBatch()
// Every row feeds this, so no work can be optimised away.
let sink = 0

const decodeInner = (_header: unknown, payload: Uint8Array) => {
  sink += Temperature.decode(payload).celsius ?? 0
}

const rows: Record<CodecRow, (n: number) => void> = {
  pbEncode(n) {
    for (let i = 0; i < n; i++) sink += Temperature.encode(message).length
  },
  shoalEncode(n) {
    const slab = new FrameSlab()
    for (let i = 0; i < n; i++) {
      const frame = slab.encodeFrame(Temperature, message, 0, 0, SESSION, i, topicBytes, MAX_UDP_PAYLOAD)
      if (!(frame instanceof Uint8Array)) throw new Error('a 45-byte message did not fit one frame')
      sink += frame.length
    }
  },
  shoalFragment(n) {
    for (let i = 0; i < n; i++) {
      header.sequence = i
      const payload = Temperature.encode(message)
      sink += fragmentMessage(header, topicBytes, payload, MAX_UDP_PAYLOAD)[0]!.length
    }
  },
  shoalEncodeInto(n) {
    const full = {
      ...header,
      messageLength: 0,
      fragmentOffset: 0,
      fragmentIndex: 0,
      fragmentCount: 1,
      payloadLength: 0,
    }
    for (let i = 0; i < n; i++) {
      const payload = Temperature.encode(message)
      full.sequence = i
      full.messageLength = payload.length
      full.payloadLength = payload.length
      sink += encodeFrameInto(full, topicBytes, payload, scratch, 0)
    }
  },
  shoalBatch(n) {
    const builder = new BatchBuilder(MAX_UDP_PAYLOAD)
    let batches = 0
    for (let i = 0; i < n; i++) {
      if (typeof builder.appendMessage(Temperature, message, 0, 0, SESSION, i, topicBytes) === 'number')
        continue
      // Full: seal it, and the message goes first into the next one.
      sink += builder.finish(SESSION, batches++).length
      if (typeof builder.appendMessage(Temperature, message, 0, 0, SESSION, i, topicBytes) !== 'number')
        throw new Error('a 45-byte message did not fit an empty batch')
    }
    if (builder.count > 0) sink += builder.finish(SESSION, batches).length
  },
  pbDecode(n) {
    for (let i = 0; i < n; i++) sink += Temperature.decode(encoded).celsius ?? 0
  },
  shoalDecode(n) {
    for (let i = 0; i < n; i++) {
      const result = decodeFrame(frame, 0, frame.length)
      if (!result.ok) throw new Error(`decodeFrame: ${result.reason}`)
      sink += Temperature.decode(result.payload).celsius ?? 0
    }
  },
  shoalBatchDecode(n) {
    // Whole batches, as a subscriber gets them: n rounded up to a multiple of a batch's frames.
    for (let done = 0; done < n; done += batch.frames) {
      const result = decodeFrame(batch.datagram, 0, batch.datagram.length)
      if (!result.ok) throw new Error(`decodeFrame: ${result.reason}`)
      if (!forEachInnerFrame(result.payload, decodeInner)) throw new Error('forEachInnerFrame: bad batch')
    }
  },
}

/** Messages a row actually processes for `n` (batch decoding works in whole batches). */
const processed = (row: CodecRow, n: number) =>
  row === 'shoalBatchDecode' ? Math.ceil(n / batch.frames) * batch.frames : n

emitReady()
const names = Object.keys(rows) as CodecRow[]
for (const name of names) rows[name](config.warmup)
const rates = {} as Record<CodecRow, number>
for (const name of names) {
  const started = process.hrtime.bigint()
  rows[name](config.messages)
  rates[name] = processed(name, config.messages) / (Number(process.hrtime.bigint() - started) / 1e9)
}
const report: CodecReport = {
  event: 'result',
  messageBytes: encoded.length,
  frameBytes: frame.length,
  framesPerBatch: batch.frames,
  rates,
  crypto: measureCrypto(config.cryptoMs),
}
emit('result', { ...report, sink: (sink + cryptoSink()) % 1000 })
process.exit(0)
