import { createDynamicRegistry, createRegistry, fileDescriptorSet, Imu } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { type RecordedSchemaOutcome, recordedTypeLearner } from './recorded-types.js'
import type { RecordingFrame } from './recording-frame.js'

const IMU_SET = fileDescriptorSet('shoal.v1.Imu')!

function frame(fields: Partial<RecordingFrame>): RecordingFrame {
  return {
    topic: 'imu',
    fingerprint: Imu.fingerprint,
    payload: new Uint8Array(),
    ...fields,
  } as RecordingFrame
}

describe('recordedTypeLearner', () => {
  it("learns a type from the recording's schema once, checked against the frame's fingerprint", () => {
    const types = createDynamicRegistry(createRegistry([]))
    const outcomes: RecordedSchemaOutcome[] = []
    const learn = recordedTypeLearner(types, (o) => outcomes.push(o))
    for (let i = 0; i < 3; i++) learn(frame({ typeName: 'shoal.v1.Imu', schemaData: IMU_SET }))
    expect(outcomes).toEqual([{ added: true, typeName: 'shoal.v1.Imu', fingerprint: Imu.fingerprint }])
    expect(types.byFingerprint(Imu.fingerprint)?.typeName).toBe('shoal.v1.Imu')
  })

  it('refuses a schema that does not match the fingerprint, and says so once', () => {
    const types = createDynamicRegistry(createRegistry([]))
    const outcomes: RecordedSchemaOutcome[] = []
    const learn = recordedTypeLearner(types, (o) => outcomes.push(o))
    for (let i = 0; i < 3; i++)
      learn(frame({ typeName: 'shoal.v1.Imu', schemaData: IMU_SET, fingerprint: Imu.fingerprint ^ 1 }))
    expect(outcomes).toEqual([
      {
        added: false,
        typeName: 'shoal.v1.Imu',
        fingerprint: Imu.fingerprint ^ 1,
        reason: 'fingerprint-mismatch',
      },
    ])
    expect(types.byFingerprint(Imu.fingerprint ^ 1)).toBeUndefined()
  })

  it('leaves frames without a schema, or of a known type, alone', () => {
    const types = createDynamicRegistry(createRegistry([Imu]))
    const outcomes: RecordedSchemaOutcome[] = []
    const learn = recordedTypeLearner(types, (o) => outcomes.push(o))
    learn(frame({ typeName: 'shoal.v1.Imu', schemaData: IMU_SET }))
    learn(frame({ typeName: 'acme.Unknown', fingerprint: 7 }))
    expect(outcomes).toEqual([])
  })
})
