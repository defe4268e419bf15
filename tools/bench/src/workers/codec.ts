/**
 * Scenario 4, no sockets: messages per second of each codec step on the 45-byte Temperature.
 * - pbEncode / pbDecode: the generated protobufjs codec alone (`Temperature.encode` / `decode`).
 * - shoalEncode: encode + `fragmentMessage` (what `publisher.publish` does per message: a fresh
 *   frame buffer each time).
 * - shoalEncodeInto: encode + `encodeFrameInto` a reused buffer (the floor of framing).
 * - shoalDecode: `decodeFrame` (header, length and CRC checks) + decode (what a subscriber does).
 * Each row is warmed up, then timed over `messages` iterations, one after the other, in a fresh process per run.
 */
import { Temperature } from '@shoal/schema'
import { decodeFrame, encodeFrameInto, encodeTopic, FrameKind, fragmentMessage } from '@shoal/transport/wire'
import type { CodecConfig, CodecReport, CodecRow } from '../protocol.js'
import { MAX_UDP_PAYLOAD, SMALL_TOPIC, temperatureSample } from '../samples.js'
import { armDeadline, emit, emitReady, readConfig } from './io.js'

const config = readConfig<CodecConfig>()
armDeadline(config.deadlineMs, () => {
  emit('error', { message: `codec bench did not finish within ${config.deadlineMs} ms` })
  process.exit(3)
})

const message = temperatureSample()
const encoded = Temperature.encode(message).slice()
const topicBytes = encodeTopic(SMALL_TOPIC)
const header = {
  kind: FrameKind.DATA,
  flags: 0,
  hops: 0,
  topic: SMALL_TOPIC,
  sessionId: 0x12345678,
  sequence: 0,
  fingerprint: Temperature.fingerprint,
  extensionLength: 0,
}
const frame = fragmentMessage(header, topicBytes, encoded, MAX_UDP_PAYLOAD)[0]!.slice()
const scratch = new Uint8Array(MAX_UDP_PAYLOAD)
// Every row feeds this, so no work can be optimised away.
let sink = 0

const rows: Record<CodecRow, (n: number) => void> = {
  pbEncode(n) {
    for (let i = 0; i < n; i++) sink += Temperature.encode(message).length
  },
  pbDecode(n) {
    for (let i = 0; i < n; i++) sink += Temperature.decode(encoded).celsius ?? 0
  },
  shoalEncode(n) {
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
  shoalDecode(n) {
    for (let i = 0; i < n; i++) {
      const result = decodeFrame(frame, 0, frame.length)
      if (!result.ok) throw new Error(`decodeFrame: ${result.reason}`)
      sink += Temperature.decode(result.payload).celsius ?? 0
    }
  },
}

emitReady()
const names = Object.keys(rows) as CodecRow[]
for (const name of names) rows[name](config.warmup)
const rates = {} as Record<CodecRow, number>
for (const name of names) {
  const started = process.hrtime.bigint()
  rows[name](config.messages)
  rates[name] = config.messages / (Number(process.hrtime.bigint() - started) / 1e9)
}
const report: CodecReport = {
  event: 'result',
  messageBytes: encoded.length,
  frameBytes: frame.length,
  rates,
}
emit('result', { ...report, sink: sink % 1000 })
process.exit(0)
