import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { fingerprintOf, fingerprintSource, formatFingerprint } from './fingerprint.js'
import { registry } from './shoal-types.js'

const protoDir = fileURLToPath(new URL('../proto/shoal/v1/', import.meta.url))
const original = (file: string) => readFileSync(`${protoDir}${file}`, 'utf8')

/** Fingerprint of `typeName` after parsing the real .proto files, with `overrides` replacing some of them. */
function fingerprintWith(typeName: string, overrides: Record<string, string> = {}): number {
  const root = new protobuf.Root()
  for (const file of [
    'header.proto',
    'geometry.proto',
    'imu.proto',
    'heartbeat.proto',
    'temperature.proto',
  ]) {
    protobuf.parse(overrides[file] ?? original(file), root)
  }
  return fingerprintOf(root.resolveAll().lookupType(typeName))
}

/** Like `original(file).replace(search, replacement)`, but fails if `search` is not there (no silent no-op). */
function edit(file: string, search: string | RegExp, replacement: string): Record<string, string> {
  const text = original(file)
  const edited = text.replace(search, replacement)
  if (edited === text) throw new Error(`edit of ${file}: ${String(search)} not found`)
  return { [file]: edited }
}

function fingerprintOfText(typeName: string, proto: string): number {
  return fingerprintOf(protobuf.parse(proto).root.resolveAll().lookupType(typeName))
}

const imu = fingerprintWith('shoal.v1.Imu')
const heartbeat = fingerprintWith('shoal.v1.Heartbeat')
const temperature = fingerprintWith('shoal.v1.Temperature')

describe('fingerprintOf', () => {
  it('pins the fingerprint of every registered type (update deliberately, with a changeset)', () => {
    const pinned = Object.fromEntries(
      registry.all().map((t) => [t.typeName, formatFingerprint(t.fingerprint)]),
    )
    expect(pinned).toEqual({
      'shoal.v1.Imu': '0xb16c9ed1',
      'shoal.v1.NavSatFix': '0x1e97cf56',
      'shoal.v1.Temperature': '0x1140b063',
      'shoal.v1.Scalar': '0xba1de4e4',
      'shoal.v1.Image': '0x816f3507',
      'shoal.v1.Heartbeat': '0xd15056dd',
    })
  })

  it('is the same from parsed .proto text as from the generated JSON descriptor', () => {
    expect(imu).toBe(registry.byName('shoal.v1.Imu')?.fingerprint)
    expect(heartbeat).toBe(registry.byName('shoal.v1.Heartbeat')?.fingerprint)
    expect(temperature).toBe(registry.byName('shoal.v1.Temperature')?.fingerprint)
  })

  it('is a u32', () => {
    for (const type of registry.all()) {
      expect(Number.isInteger(type.fingerprint)).toBe(true)
      expect(type.fingerprint).toBeGreaterThanOrEqual(0)
      expect(type.fingerprint).toBeLessThanOrEqual(0xffff_ffff)
    }
  })

  it('hashes the canonical source: SHA-256, first 4 bytes big-endian', () => {
    const type = protobuf
      .parse('syntax = "proto3"; package t; message M { double v = 1; }')
      .root.lookupType('t.M')
    expect(fingerprintSource(type)).toBe('shoal-fingerprint-v1\nmessage t.M\nfield 1 singular double')
    const digest = createHash('sha256')
      .update('shoal-fingerprint-v1\nmessage t.M\nfield 1 singular double')
      .digest()
    expect(fingerprintOf(type)).toBe(digest.readUInt32BE(0))
    expect(fingerprintOf(type)).toBe(
      (digest[0] ?? 0) * 2 ** 24 + (digest[1] ?? 0) * 2 ** 16 + (digest[2] ?? 0) * 2 ** 8 + (digest[3] ?? 0),
    )
  })

  describe('does not change when only', () => {
    it.each([
      [
        'a comment is edited',
        edit('imu.proto', '// Angular velocity, rad/s.', '// Angular rate in rad/s, body frame.'),
      ],
      [
        'a comment is added',
        edit('imu.proto', 'message Imu {', '/** Doc comment. */\nmessage Imu { // trailing'),
      ],
      ['all comments are removed', { 'imu.proto': original('imu.proto').replace(/\/\/.*$/gm, '') }],
      ['a field is renamed', edit('imu.proto', 'linear_acceleration =', 'accel =')],
      [
        'fields are declared in another order',
        edit('geometry.proto', /double x = 1;\s*double y = 2;/, 'double y = 2; double x = 1;'),
      ],
      [
        'a field option is added',
        edit('imu.proto', 'orientation_covariance = 3;', 'orientation_covariance = 3 [deprecated = true];'),
      ],
    ])('%s', (_what, overrides) => {
      expect(fingerprintWith('shoal.v1.Imu', overrides)).toBe(imu)
    })

    it('an enum value is renamed', () => {
      expect(
        fingerprintWith('shoal.v1.Heartbeat', edit('heartbeat.proto', 'STATE_DEGRADED', 'STATE_LIMPING')),
      ).toBe(heartbeat)
    })
  })

  describe('changes when', () => {
    it.each([
      ['a field number changes', edit('imu.proto', 'linear_acceleration = 6;', 'linear_acceleration = 8;')],
      ['a field type changes', edit('imu.proto', 'Vector3 angular_velocity', 'Quaternion angular_velocity')],
      [
        'a scalar becomes repeated',
        edit('imu.proto', 'Quaternion orientation = 2;', 'repeated Quaternion orientation = 2;'),
      ],
      [
        'a repeated field becomes singular',
        edit('imu.proto', 'repeated double orientation_covariance', 'double orientation_covariance'),
      ],
      ['a field is added', edit('imu.proto', 'Header header = 1;', 'Header header = 1; uint32 seq = 9;')],
      ['a field is removed', edit('imu.proto', /repeated double angular_velocity_covariance = 5;/, '')],
      [
        'a referenced message changes',
        edit('geometry.proto', /message Vector3 \{\s*double x = 1;/, 'message Vector3 { float x = 1;'),
      ],
      ['the header changes', edit('header.proto', 'uint64 stamp_ns = 3;', 'fixed64 stamp_ns = 3;')],
    ])('%s', (_what, overrides) => {
      expect(fingerprintWith('shoal.v1.Imu', overrides)).not.toBe(imu)
    })

    it('a scalar type changes (double → float)', () => {
      expect(
        fingerprintWith('shoal.v1.Temperature', edit('temperature.proto', 'double celsius', 'float celsius')),
      ).not.toBe(temperature)
    })

    it('a field gains explicit presence (proto3 optional)', () => {
      const edited = edit('temperature.proto', 'double variance', 'optional double variance')
      expect(fingerprintWith('shoal.v1.Temperature', edited)).not.toBe(temperature)
    })

    it('an enum value number changes or a value is added', () => {
      expect(
        fingerprintWith(
          'shoal.v1.Heartbeat',
          edit('heartbeat.proto', 'STATE_STOPPING = 5;', 'STATE_STOPPING = 6;'),
        ),
      ).not.toBe(heartbeat)
      expect(
        fingerprintWith(
          'shoal.v1.Heartbeat',
          edit('heartbeat.proto', 'STATE_STOPPING = 5;', 'STATE_STOPPING = 5; STATE_X = 9;'),
        ),
      ).not.toBe(heartbeat)
    })

    it('the package changes', () => {
      const files = ['header.proto', 'geometry.proto', 'imu.proto', 'heartbeat.proto', 'temperature.proto']
      const v2 = Object.fromEntries(
        files.map((file) => [file, original(file).replace('package shoal.v1;', 'package shoal.v2;')]),
      )
      expect(fingerprintWith('shoal.v2.Imu', v2)).not.toBe(imu)
    })

    it('the full name changes', () => {
      const renamed = edit('temperature.proto', 'message Temperature {', 'message Temp {')
      const root = new protobuf.Root()
      protobuf.parse(original('header.proto'), root)
      protobuf.parse(renamed['temperature.proto'] ?? '', root)
      expect(fingerprintOf(root.resolveAll().lookupType('shoal.v1.Temp'))).not.toBe(temperature)
    })

    it('map key types, oneof grouping and labels differ', () => {
      const m = (body: string) =>
        fingerprintOfText('t.M', `syntax = "proto3"; package t; message M { ${body} }`)
      const variants = [
        'map<string, double> v = 1;',
        'map<int32, double> v = 1;',
        'map<string, float> v = 1;',
        'repeated double v = 1;',
        'double v = 1;',
        'optional double v = 1;',
        'oneof o { double v = 1; string s = 2; }',
        'double v = 1; string s = 2;',
      ].map(m)
      expect(new Set(variants).size).toBe(variants.length)
    })
  })

  it('terminates on recursive and mutually recursive messages', () => {
    const tree = fingerprintOfText(
      't.Node',
      'syntax = "proto3"; package t; message Node { repeated Node children = 1; }',
    )
    const pair = 'syntax = "proto3"; package t; message A { B b = 1; } message B { A a = 1; }'
    expect(tree).toBe(
      fingerprintOfText(
        't.Node',
        'syntax = "proto3"; package t; message Node { repeated Node children = 1; }',
      ),
    )
    expect(fingerprintOfText('t.A', pair)).not.toBe(fingerprintOfText('t.B', pair))
  })

  it('names the field whose type cannot be resolved', () => {
    const type = protobuf
      .parse('syntax = "proto3"; package t; message M { Missing m = 1; }')
      .root.lookupType('t.M')
    expect(() => fingerprintOf(type)).toThrow(/t\.M\.m: type "Missing" not found/)
  })
})

describe('formatFingerprint', () => {
  it('prints 0x and 8 hex digits', () => {
    expect(formatFingerprint(0)).toBe('0x00000000')
    expect(formatFingerprint(0xdeadbeef)).toBe('0xdeadbeef')
    expect(formatFingerprint(0x1a)).toBe('0x0000001a')
  })
})
