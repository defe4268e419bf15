import { createCipheriv, hkdfSync } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Datagram } from '../net/link.js'
import { FIXED_HEADER_LENGTH, FrameKind, Offset } from '../wire/constants.js'
import { decodeFrame, encodedFrameLength, encodeFrameInto, writeCrc } from '../wire/frame.js'
import type { FrameHeader } from '../wire/header.js'
import { encodeTopic } from '../wire/header.js'
import { readSealFields, SEAL_OVERHEAD, TAG_LENGTH } from '../wire/seal.js'
import { Keyring } from './keyring.js'
import { Opener } from './opener.js'
import {
  MAX_CLOCK_SKEW_MS,
  REPLAY_WINDOW,
  ReplayTable,
  ReplayWindow,
  SEAL_SESSION_IDLE_MS,
} from './replay-window.js'
import { Sealer, type SealMode } from './sealer.js'

const KEY_1 = `1 ${'11'.repeat(32)}`
const KEY_2 = `2 ${'22'.repeat(32)}`
const ring = (...lines: string[]) => Keyring.parse(lines.join('\n'))

function frame(payload: Uint8Array, overrides: Partial<FrameHeader> = {}): Uint8Array {
  const header: FrameHeader = {
    kind: FrameKind.DATA,
    flags: 0,
    hops: 0,
    topic: 'gps',
    sessionId: 0x1234_5678,
    sequence: 7,
    fingerprint: 0xabcd,
    messageLength: payload.length,
    fragmentOffset: 0,
    fragmentIndex: 0,
    fragmentCount: 1,
    payloadLength: payload.length,
    extensionLength: 0,
    ...overrides,
  }
  const topic = encodeTopic(header.topic)
  const out = new Uint8Array(encodedFrameLength(header, topic))
  encodeFrameInto(header, topic, payload, out, 0)
  return out
}

/** Decodes, then opens: the receive path's first two steps. */
function receive(opener: Opener, datagram: Uint8Array) {
  const decoded = decodeFrame(datagram)
  if (!decoded.ok) return { ok: false as const, reason: decoded.reason }
  const headerLength = datagram.length - decoded.header.payloadLength - 4
  const opened = opener.open(datagram, decoded.header, headerLength, decoded.payload)
  return opened.ok ? { ...opened, header: decoded.header } : opened
}

/** A sealed datagram as the socket gathers it: one buffer. */
function whole(datagram: Datagram): Buffer {
  return datagram instanceof Uint8Array
    ? Buffer.from(datagram)
    : Buffer.concat(datagram as readonly Uint8Array[])
}

const PAYLOAD = new TextEncoder().encode('lat 59.3293 lon 18.0686: a known message')

describe.each<SealMode>(['encrypt', 'authenticate'])('sealing, %s', (mode) => {
  it('round-trips: the opened frame is the frame that was sealed', () => {
    const sealer = new Sealer(ring(KEY_1), mode)
    const sealed = whole(sealer.seal(frame(PAYLOAD)))
    expect(sealed.length).toBe(frame(PAYLOAD).length + SEAL_OVERHEAD)
    const got = receive(new Opener(ring(KEY_1)), sealed)
    expect(got.ok).toBe(true)
    if (!got.ok) return
    expect(Buffer.from(got.payload)).toEqual(Buffer.from(PAYLOAD))
    expect(got.header).toMatchObject({
      flags: 0,
      extensionLength: 0,
      payloadLength: PAYLOAD.length,
      sequence: 7,
    })
  })

  it(mode === 'encrypt' ? 'hides the payload' : 'leaves the payload readable', () => {
    const sealed = whole(new Sealer(ring(KEY_1), mode).seal(frame(PAYLOAD)))
    expect(sealed.includes(Buffer.from('59.3293'))).toBe(mode === 'authenticate')
  })

  it('a relay may change the hop count and informational flags; nothing else', () => {
    const sealed = whole(new Sealer(ring(KEY_1), mode).seal(frame(PAYLOAD)))
    const relayed = Buffer.from(sealed)
    relayed[6] = 3 // hops
    relayed[4] = 0x03 // REPAIRABLE | FOREIGN
    fixCrc(relayed)
    expect(receive(new Opener(ring(KEY_1)), relayed).ok).toBe(true)
  })

  it('the tag is AES-256-GCM as WIRE.md describes it, computed here in one piece', () => {
    const sealed = whole(new Sealer(ring(KEY_1), mode).seal(frame(PAYLOAD)))
    const decoded = decodeFrame(sealed)
    if (!decoded.ok) throw new Error(decoded.reason)
    const headerLength = sealed.length - decoded.header.payloadLength - 4
    const fields = readSealFields(sealed, FIXED_HEADER_LENGTH + sealed[Offset.TOPIC_LENGTH]!)
    const key = Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from('11'.repeat(32), 'hex'),
        'shoal seal v1',
        Buffer.from(fields.sender, 'hex'),
        32,
      ),
    )
    const nonce = Buffer.alloc(12)
    nonce.writeBigUInt64BE(BigInt(fields.counter), 4)
    const aad = Buffer.from(sealed.subarray(0, headerLength))
    aad[Offset.HOPS] = 0
    aad[4] = 0 // the informational flag byte
    const body = sealed.subarray(headerLength, sealed.length - 4 - TAG_LENGTH)
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH })
    if (mode === 'encrypt') {
      cipher.setAAD(aad)
      expect(cipher.update(PAYLOAD)).toEqual(Buffer.from(body))
    } else {
      cipher.setAAD(Buffer.concat([aad, PAYLOAD]))
      expect(Buffer.from(body)).toEqual(Buffer.from(PAYLOAD))
    }
    cipher.final()
    expect(cipher.getAuthTag()).toEqual(
      Buffer.from(sealed.subarray(sealed.length - 4 - TAG_LENGTH, sealed.length - 4)),
    )
  })

  it('every single-byte change of a sealed datagram outside hops and the informational flags is refused', () => {
    const sealed = whole(new Sealer(ring(KEY_1), mode).seal(frame(PAYLOAD)))
    for (let i = 0; i < sealed.length - 4; i++) {
      if (i === 4 || i === 6) continue
      const tampered = Buffer.from(sealed)
      tampered[i]! ^= 0x01
      fixCrc(tampered) // an attacker recomputes the CRC
      const got = receive(new Opener(ring(KEY_1)), tampered)
      expect({ i, ok: got.ok }).toEqual({ i, ok: false })
    }
  })
})

describe('keys', () => {
  it('the highest id seals; every id in the ring opens (rotation without loss)', () => {
    const old = whole(new Sealer(ring(KEY_1), 'encrypt').seal(frame(PAYLOAD)))
    const rotated = new Sealer(ring(KEY_1, KEY_2), 'encrypt')
    expect(rotated.keyId).toBe(2)
    const opener = new Opener(ring(KEY_1, KEY_2))
    expect(receive(opener, old).ok).toBe(true)
    expect(receive(opener, whole(rotated.seal(frame(PAYLOAD)))).ok).toBe(true)
    expect(receive(new Opener(ring(KEY_1)), whole(rotated.seal(frame(PAYLOAD))))).toEqual({
      ok: false,
      reason: 'unknown-key',
    })
  })

  it('another key under the same id fails the tag', () => {
    const sealed = whole(new Sealer(ring(KEY_1), 'encrypt').seal(frame(PAYLOAD)))
    expect(receive(new Opener(ring(`1 ${'33'.repeat(32)}`)), sealed)).toEqual({
      ok: false,
      reason: 'bad-tag',
    })
  })

  it('keyed sides refuse unsealed frames; keyless ones recognise sealed frames', () => {
    expect(receive(new Opener(ring(KEY_1)), frame(PAYLOAD))).toEqual({ ok: false, reason: 'unauthenticated' })
    const sealed = whole(new Sealer(ring(KEY_1), 'encrypt').seal(frame(PAYLOAD)))
    expect(receive(new Opener(undefined), sealed)).toEqual({ ok: false, reason: 'no-key' })
    expect(receive(new Opener(undefined), frame(PAYLOAD)).ok).toBe(true)
  })

  it('a sealed datagram is not sealed again (a relay passing on what it cannot open)', () => {
    const sealer = new Sealer(ring(KEY_1), 'encrypt')
    const sealed = sealer.seal(frame(PAYLOAD))
    expect(sealer.seal(sealed)).toBe(sealed)
  })

  it('key files: malformed lines are named, key material never printed', () => {
    expect(() => Keyring.parse('# ring\n\n1 abc\n', 'k.keys')).toThrow(/k\.keys:3: key 1: expected 64 hex/)
    expect(() => Keyring.parse(`${KEY_1}\n${KEY_1}`, 'k')).toThrow(/k:2: key id 1 already on line 1/)
    expect(() => Keyring.parse('x y', 'k')).toThrow(/k:1: expected `KEY_ID HEX`/)
    expect(() => Keyring.parse('# nothing', 'k')).toThrow(/no key/)
    const keyring = ring(KEY_1, KEY_2)
    for (const shown of [JSON.stringify(keyring), keyring.describe(), String(keyring)])
      expect(shown).not.toMatch(/1111|2222/)
    expect(Keyring.parse(Keyring.generate(9)).sealing()?.id).toBe(9)
  })

  it('a key before its not-before opens but does not seal yet; then it seals (rotation with no control frame refused)', () => {
    const soon = new Date(Date.now() + 60_000).toISOString()
    const ring2 = Keyring.parse(`${KEY_1}\n2 ${'22'.repeat(32)} not-before=${soon}`)
    expect(ring2.sealing()?.id).toBe(1)
    expect(ring2.key(2)).toBeDefined()
    expect(ring2.sealing(Date.now() + 61_000)?.id).toBe(2)
    const sealer = new Sealer(ring2, 'encrypt')
    expect(sealer.keyId).toBe(1)
    const realNow = Date.now
    try {
      Date.now = () => realNow() + 61_000
      whole(sealer.seal(frame(PAYLOAD)))
      expect(sealer.keyId).toBe(2)
    } finally {
      Date.now = realNow
    }
    expect(() => Keyring.parse(`1 ${'11'.repeat(32)} not-before=soon`, 'k')).toThrow(
      /k:1: key 1: unknown field/,
    )
  })

  it('a key past its not-after neither seals nor opens', () => {
    const past = Keyring.parse(`1 ${'11'.repeat(32)} not-after=2020-01-01T00:00:00Z\n${KEY_2}`)
    expect(past.sealing()?.id).toBe(2)
    expect(past.key(1)).toBeUndefined()
  })
})

describe('replay', () => {
  it('a derived key lives and goes with its replay window: one bound, one eviction', () => {
    const table = new ReplayTable(2)
    const key = Buffer.alloc(32, 7)
    table.commit('1:a', 1_000_000, 0, key)
    expect(table.derivedKey('1:a')).toBe(key)
    table.forgetKeys() // a key file reload: derived again, the window stays
    expect(table.derivedKey('1:a')).toBeUndefined()
    expect(table.check('1:a', 1_000_000, 1_000_000)).toBe('replayed')
    table.commit('1:a', 1_000_001, 1, key)
    table.commit('1:b', 1_000_000, 2, key)
    table.commit('1:c', 1_000_000, 3, key) // the table is full: the oldest session goes, key and all
    expect(table.derivedKey('1:a')).toBeUndefined()
    expect(table.stats()).toMatchObject({ sessions: 2, evicted: 1 })
    table.sweep(3 + SEAL_SESSION_IDLE_MS)
    expect([table.derivedKey('1:b'), table.derivedKey('1:c')]).toEqual([undefined, undefined])
    expect(table.stats()).toMatchObject({ sessions: 0, expired: 2 })
  })

  it('a datagram opens once; its copy is replayed', () => {
    const sealed = whole(new Sealer(ring(KEY_1), 'encrypt').seal(frame(PAYLOAD)))
    const opener = new Opener(ring(KEY_1))
    expect(receive(opener, sealed).ok).toBe(true)
    expect(receive(opener, sealed)).toEqual({ ok: false, reason: 'replayed' })
  })

  it('datagrams out of order within the window open; ones older than it do not', () => {
    const window = new ReplayWindow(1_000_000, 0)
    expect(window.check(1_000_005)).toBe('ok')
    window.commit(1_000_005, 0)
    expect(window.check(1_000_003)).toBe('ok')
    window.commit(1_000_003, 0)
    expect(window.check(1_000_003)).toBe('replayed')
    window.commit(1_000_000 + REPLAY_WINDOW + 10, 0)
    expect(window.check(1_000_005)).toBe('replayed')
    expect(window.check(1_000_000 + REPLAY_WINDOW + 9)).toBe('ok')
  })

  it('the window forgets what it slid past, exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 * REPLAY_WINDOW }), { minLength: 1, maxLength: 200 }),
        (steps) => {
          const base = 2 ** 40
          const window = new ReplayWindow(base, 0)
          const seen = new Set([base])
          let highest = base
          for (const step of steps) {
            const c = base + step
            const expected = highest - c >= REPLAY_WINDOW || seen.has(c) ? 'replayed' : 'ok'
            const verdict = window.check(c)
            if (verdict !== expected) return false
            if (verdict === 'ok') {
              window.commit(c, 0)
              seen.add(c)
              highest = Math.max(highest, c)
            }
          }
          return true
        },
      ),
    )
  })

  it('a new sender whose counter is far from this clock is refused (an old session replayed)', () => {
    const sealer = new Sealer(ring(KEY_1), 'encrypt')
    const realNow = performance.now
    const sealed = whole(sealer.seal(frame(PAYLOAD)))
    try {
      // The receiver's clock is past the skew: the session is new to it and old.
      performance.now = () => realNow.call(performance) + MAX_CLOCK_SKEW_MS + 1_000
      expect(receive(new Opener(ring(KEY_1)), sealed)).toEqual({ ok: false, reason: 'clock-skew' })
    } finally {
      performance.now = realNow
    }
    expect(receive(new Opener(ring(KEY_1)), sealed).ok).toBe(true)
  })
})

/** Recomputes a datagram's CRC trailer in place (as an attacker would). */
function fixCrc(datagram: Buffer): void {
  writeCrc(datagram, 0, datagram.length)
}
