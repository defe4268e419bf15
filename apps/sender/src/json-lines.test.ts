import { Imu, Scalar, Temperature, uint64ToBigInt } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { findType, parseJsonLine } from './json-lines.js'

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
