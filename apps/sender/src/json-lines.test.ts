import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Imu, Scalar, Temperature, uint64ToBigInt } from '@shoal/schema'
import { resolveProtoTypes } from '@shoal/service'
import { describe, expect, it } from 'vitest'
import { decodeLine, findType, invalidUtf8At, parseJsonLine } from './json-lines.js'

describe('findType', () => {
  it.each([
    ['shoal.v1.Imu', Imu],
    ['Imu', Imu],
    ['Scalar', Scalar],
    ['imu', undefined],
    ['v1.Imu', undefined],
  ])('%s', (name, type) => {
    expect(findType(name)).toBe(type)
  })
})

describe('parseJsonLine', () => {
  it('takes the type from the topic when "type" is absent, and fills in the header', () => {
    const before = BigInt(Date.now()) * 1_000_000n
    const result = parseJsonLine('{"topic":"temperature","message":{"celsius":20.5}}', 'me')
    if (!result.ok) throw new Error(result.reason)
    expect(result.frame.topic).toBe('temperature')
    expect(result.frame.type).toBe(Temperature)
    const message = Temperature.decode(result.frame.payload)
    expect(message.celsius).toBe(20.5)
    expect(message.header?.sourceId).toBe('me')
    expect(uint64ToBigInt(message.header?.stampNs as never)).toBeGreaterThanOrEqual(before)
  })

  it("takes shoal-recv's own JSON lines, ignoring how the frame arrived", () => {
    const line = JSON.stringify({
      receivedAt: '2026-11-23T04:00:00.000Z',
      topic: 'temperature',
      type: 'shoal.v1.Temperature',
      fingerprint: '0x1140b063',
      source: { session: 'eb4831e3', address: '127.0.0.1', port: 35118 },
      sequence: 3,
      hops: 0,
      bytes: 20,
      message: { header: { sourceId: 'probe', stampNs: '1700000000000000000' }, celsius: 19.25 },
    })
    const result = parseJsonLine(line, 'me')
    if (!result.ok) throw new Error(result.reason)
    expect(Temperature.decode(result.frame.payload)).toMatchObject({
      celsius: 19.25,
      header: { sourceId: 'probe' },
    })
  })

  it('keeps a header that the line gives', () => {
    const result = parseJsonLine(
      '{"topic":"a/b","type":"Scalar","message":{"header":{"source_id":"x","frameId":"f","stampNs":"1700000000000000001"},"value":1}}',
      'me',
    )
    if (!result.ok) throw new Error(result.reason)
    const message = Scalar.decode(result.frame.payload)
    expect(message.header).toMatchObject({ sourceId: 'x', frameId: 'f' })
    expect(uint64ToBigInt(message.header?.stampNs as never)).toBe(1_700_000_000_000_000_001n)
  })

  it.each([
    ['{"topic":', /^not JSON: /],
    ['[]', /^expected an object/],
    ['"imu"', /^expected an object/],
    ['{"topic":"imu","message":{},"extra":1}', /^unknown key "extra"/],
    ['{"message":{}}', /^"topic" must be a string$/],
    ['{"topic":"","message":{}}', /^"topic" must be 1-255 bytes of UTF-8; it is 0$/],
    [`{"topic":"${'é'.repeat(128)}","type":"Scalar","message":{}}`, /it is 256$/],
    ['{"topic":"nowhere","message":{}}', /^no "type", and topic "nowhere" has no default type/],
    ['{"topic":"x","type":7,"message":{}}', /^"type" must be a string$/],
    ['{"topic":"x","type":"Lidar","message":{}}', /^unknown type "Lidar"; known: shoal\.v1\.Imu/],
    [
      '{"topic":"gps","type":"Imu","message":{}}',
      /^topic "gps" carries shoal\.v1\.NavSatFix, not shoal\.v1\.Imu$/,
    ],
    ['{"topic":"imu"}', /^"message" must be an object$/],
    ['{"topic":"imu","message":[1]}', /^"message" must be an object$/],
    ['{"topic":"imu","message":{"linearAcceleration":{"q":1}}}', /Vector3.*unknown field: "q"|unknown field/],
    ['{"topic":"temperature","message":{"celsius":"hot"}}', /celsius/],
  ])('%s is refused: %s', (line, reason) => {
    const result = parseJsonLine(line, 'me')
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toMatch(reason)
  })
})

describe('decodeLine', () => {
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((part) => Buffer.from(part)))

  it('decodes UTF-8, keeping every character as it is', () => {
    const text = '{"topic":"café/温度/🌡"}'
    expect(decodeLine(bytes(text))).toEqual({ ok: true, text })
    expect(decodeLine(bytes([0xef, 0xbb, 0xbf], '{}'))).toEqual({ ok: true, text: '\ufeff{}' })
  })

  it.each([
    ['a byte that is never UTF-8', bytes('{"topic":"a', [0xff], '"}'), 12, '0xff 0x22 0x7d'],
    ['Latin-1 é', bytes('{"topic":"caf', [0xe9], '"}'), 14, '0xe9 0x22 0x7d'],
    ['a sequence cut short', bytes('{"topic":"', [0xe6, 0xb8], '"}'), 11, '0xe6 0xb8 0x22 0x7d'],
    ['a lone continuation byte', bytes('x', [0x80]), 2, '0x80'],
    ['an overlong "/"', bytes('a', [0xc0, 0xaf]), 2, '0xc0 0xaf'],
    ['a surrogate', bytes([0xed, 0xa0, 0x80]), 1, '0xed 0xa0 0x80'],
    ['past U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), 1, '0xf4 0x90 0x80 0x80'],
  ])('refuses %s, saying where', (_, line, at, shown) => {
    expect(decodeLine(line)).toEqual({
      ok: false,
      reason: `not valid UTF-8 from byte ${at} of the line (${shown})`,
    })
  })

  it('finds a bad sequence exactly when the fatal decoder refuses the bytes', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true })
    const agrees = (line: Uint8Array) => {
      let valid = true
      try {
        decoder.decode(line)
      } catch {
        valid = false
      }
      return (invalidUtf8At(line) === -1) === valid
    }
    // Every line of one and two bytes, and three and four bytes around every boundary of the table.
    const edges = [
      0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
      0xf5, 0xff,
    ]
    const lines: Uint8Array[] = []
    for (let a = 0; a < 256; a++) {
      lines.push(Uint8Array.of(a))
      for (let b = 0; b < 256; b++) lines.push(Uint8Array.of(a, b))
    }
    for (const a of edges)
      for (const b of edges)
        for (const c of edges) {
          lines.push(Uint8Array.of(a, b, c), Uint8Array.of(0x41, a, b, c))
          for (const d of edges) lines.push(Uint8Array.of(a, b, c, d))
        }
    expect(lines.filter((line) => !agrees(line))).toEqual([])
  })
})

describe('lines of a --proto type', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-json-lines-'))
  writeFileSync(
    join(dir, 'wind.proto'),
    'syntax = "proto3";\npackage acme.v1;\nimport "shoal/v1/header.proto";\n' +
      'message Wind { shoal.v1.Header header = 1; double speed = 2; }\n' +
      'message Bare { double value = 1; }\n' +
      'message Scalar { double value = 1; }\n', // shoal.v1.Scalar's short name too
  )
  const types = resolveProtoTypes([dir])
  rmSync(dir, { recursive: true, force: true })

  it('are taken with the sender’s types, by full or short name, the header filled in', () => {
    const Wind = types.byName('acme.v1.Wind')!
    for (const name of ['acme.v1.Wind', 'Wind']) {
      const line = JSON.stringify({ topic: 'weather/wind', type: name, message: { speed: 7.5 } })
      const result = parseJsonLine(line, 'mast1', types)
      expect(result.ok).toBe(true)
      if (!result.ok) continue
      expect(result.frame.type).toBe(Wind)
      const decoded = Wind.toObject(Wind.decode(result.frame.payload))
      expect(decoded).toMatchObject({ speed: 7.5, header: { sourceId: 'mast1' } })
      expect(decoded.header).not.toMatchObject({ stampNs: '0' })
    }
  })

  it('a type without a header gets none', () => {
    const Bare = types.byName('acme.v1.Bare')!
    const result = parseJsonLine('{"topic":"x","type":"acme.v1.Bare","message":{"value":2}}', 'me', types)
    expect(result.ok && Bare.toObject(Bare.decode(result.frame.payload))).toEqual({ value: 2 })
  })

  it('a short name a --proto type shares with a built-in one is refused, naming both', () => {
    const result = parseJsonLine('{"topic":"x","type":"Scalar","message":{"value":2}}', 'me', types)
    expect(result).toEqual({
      ok: false,
      reason: 'type "Scalar" is ambiguous: shoal.v1.Scalar, acme.v1.Scalar; give the full name',
    })
    const full = parseJsonLine('{"topic":"x","type":"acme.v1.Scalar","message":{"value":2}}', 'me', types)
    expect(full.ok && full.frame.type.typeName).toBe('acme.v1.Scalar')
  })

  it('are refused without the types, naming the type', () => {
    const result = parseJsonLine('{"topic":"weather/wind","type":"acme.v1.Wind","message":{}}', 'me')
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown type "acme\.v1\.Wind"/),
    })
  })
})
