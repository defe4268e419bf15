import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { formatFingerprint, Imu, Scalar, Temperature } from '@shoal/schema'
import { parsePrometheusText, sampleValue } from '@shoal/service/testing'
import { sessionHex } from '@shoal/transport'
import { encodeTopic, encodeWholeFrame } from '@shoal/transport/wire'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectedObject, SAMPLES } from './samples.js'
import {
  httpBase,
  jsonLines,
  loopbackPublisher,
  receiverWithPublisher,
  requireBuild,
  startReceiver,
  summaryLine,
  uniqueEndpoint,
  WAIT_MS,
  waitForLines,
} from './support.js'

beforeAll(requireBuild)

const imu = (z: number) => ({ header: { sourceId: 'imu0' }, linearAcceleration: { z } })

describe('shoal-recv, JSON lines', () => {
  it('prints every type decoded, with its topic, type, source and per-topic sequence', async () => {
    const { rx, pub } = await receiverWithPublisher(['--count', String(SAMPLES.length * 2)])
    try {
      for (const _round of [0, 1]) for (const s of SAMPLES) await pub.publish(s.topic, s.type, s.message)
      const result = await rx.exited
      expect(result.code).toBe(0)
      const lines = jsonLines(result.stdout)
      expect(lines).toHaveLength(SAMPLES.length * 2)
      const session = sessionHex(pub.info.sessionId)
      lines.forEach((line, i) => {
        const sample = SAMPLES[i % SAMPLES.length]!
        const expected = expectedObject(sample)
        if (sample.type.typeName === 'shoal.v1.Image') expected.data = { bytes: 300_000 }
        expect(line).toEqual({
          receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          topic: sample.topic,
          type: sample.type.typeName,
          fingerprint: formatFingerprint(sample.type.fingerprint),
          source: { session, address: '127.0.0.1', port: pub.info.local.port },
          sequence: Math.floor(i / SAMPLES.length),
          hops: 0,
          bytes: sample.type.encode(sample.type.create(sample.message)).length,
          message: expected,
        })
      })
      expect(summaryLine(result.stderr)).toMatch(
        /stopped \(--count 12\) after [\d.]+s: frames=12 bytes=\d+ gaps=0 duplicates=0 drops=0 topics=\{.*"camera":2.*\} sources=\{"[0-9a-f]{8}":12\} sourceIds=\{"[0-9a-f]{8}":"[^"]+"\}$/,
      )
    } finally {
      await pub.close()
    }
  })

  it('--full prints bytes fields whole, as base64', async () => {
    const { rx, pub } = await receiverWithPublisher(['--count', '1', '--full'])
    try {
      const camera = SAMPLES.find((s) => s.topic === 'camera')!
      await pub.publish(camera.topic, camera.type, camera.message)
      const result = await rx.exited
      const [line] = jsonLines(result.stdout) as [{ message: { data: string } }]
      expect(line.message).toEqual(expectedObject(camera))
      expect(Buffer.from(line.message.data, 'base64')).toEqual(Buffer.from(camera.message.data as Uint8Array))
    } finally {
      await pub.close()
    }
  })

  it('--topic keeps only the topics its filters match', async () => {
    const { rx, pub } = await receiverWithPublisher([
      '--topic',
      'imu',
      '--topic',
      'sensors/*',
      '--count',
      '3',
    ])
    try {
      // The filtered-out topics go first: were they let through, they would be among the 3 lines.
      for (const topic of ['gps', 'imu2', 'sensorsx', 'other/imu']) await pub.publish(topic, Imu, imu(1))
      for (const topic of ['imu', 'sensors/a', 'sensors/b/c']) await pub.publish(topic, Imu, imu(2))
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout).map((line) => line.topic)).toEqual(['imu', 'sensors/a', 'sensors/b/c'])
      expect(summaryLine(result.stderr)).toContain('frames=3 ')
    } finally {
      await pub.close()
    }
  })

  it('--count N prints N frames, then stops with exit 0 and a summary', async () => {
    const { rx, pub } = await receiverWithPublisher(['--count', '3'])
    try {
      for (let i = 0; i < 5; i++) await pub.publish('imu', Imu, imu(i))
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout).map((line) => line.sequence)).toEqual([0, 1, 2])
      expect(summaryLine(result.stderr)).toMatch(
        /^shoal-recv: stopped \(--count 3\) after [\d.]+s: frames=\d/,
      )
      // streams are keyed by session; the summary names each session's source id too
      const session = sessionHex(pub.info.sessionId)
      expect(summaryLine(result.stderr)).toContain(
        ` sources={"${session}":3} sourceIds={"${session}":"imu0"}`,
      )
    } finally {
      await pub.close()
    }
  })

  it('--duration stops with exit 0 and a summary', async () => {
    const { group, port } = uniqueEndpoint()
    const rx = await startReceiver(['--group', group, '--port', String(port), '--duration', '300ms'])
    const result = await rx.exited
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect(summaryLine(result.stderr)).toMatch(
      /^shoal-recv: stopped \(--duration 300ms\) after [\d.]+s: frames=0 bytes=0 gaps=0 duplicates=0 drops=0$/,
    )
  })

  it('joins several groups at once', async () => {
    const a = uniqueEndpoint()
    const b = { group: uniqueEndpoint().group.replace(/^239\.255\./, '239.254.') }
    const rx = await startReceiver([
      '--group',
      a.group,
      '--group',
      b.group,
      '--port',
      String(a.port),
      '--count',
      '2',
    ])
    const pubA = await loopbackPublisher({ group: a.group, port: a.port })
    const pubB = await loopbackPublisher({ group: b.group, port: a.port })
    try {
      await pubA.publish('a', Temperature, { celsius: 1 })
      await pubB.publish('b', Temperature, { celsius: 2 })
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout).map((line) => line.topic)).toEqual(['a', 'b'])
    } finally {
      await pubA.close()
      await pubB.close()
    }
  })

  it('takes frames from one source only with --source (SSM)', async () => {
    const { port } = uniqueEndpoint()
    const group = `232.1.${Math.floor(Math.random() * 254) + 1}.1`
    const rx = await startReceiver([
      '--group',
      group,
      '--source',
      '127.0.0.1',
      '--port',
      String(port),
      '--count',
      '1',
    ])
    const pub = await loopbackPublisher({ group, port })
    try {
      await pub.publish('imu', Imu, imu(3))
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout)).toMatchObject([{ topic: 'imu', source: { address: '127.0.0.1' } }])
      expect(result.stderr).toMatch(/"msg":"receiving /)
      expect(result.stderr).toContain(`"source":"127.0.0.1"`)
    } finally {
      await pub.close()
    }
  })

  it('listens for unicast on the interface address with --mode unicast', async () => {
    const { port } = uniqueEndpoint()
    const rx = await startReceiver(['--mode', 'unicast', '--port', String(port), '--count', '1'])
    const pub = await loopbackPublisher({ mode: 'unicast', address: '127.0.0.1', port })
    try {
      await pub.publish('temperature', Temperature, { celsius: 30 })
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout)).toMatchObject([{ topic: 'temperature', message: { celsius: 30 } }])
      expect(result.stderr).toContain(`"bound":"127.0.0.1:${port}"`)
    } finally {
      await pub.close()
    }
  })
})

describe('shoal-recv, at startup', () => {
  it('logs interface, groups, port and the receive buffer granted, and how to reach the network', async () => {
    const { group, port } = uniqueEndpoint()
    const rx = await startReceiver(['--group', group, '--port', String(port)])
    rx.child.kill('SIGTERM')
    const { stderr, code } = await rx.exited
    expect(code).toBe(0)
    const receiving = JSON.parse(stderr.split('\n').find((line) => line.includes('"msg":"receiving '))!)
    expect(receiving).toMatchObject({
      mode: 'multicast',
      interface: 'lo',
      interfaceAddress: '127.0.0.1',
      groups: [group],
      port,
      bound: `${group}:${port}`,
      recvBufferBytes: expect.any(Number),
    })
    expect(stderr).toMatch(
      /listening on loopback: only frames sent on this host arrive; to receive from the network, pass --interface /,
    )
    // The transport asks for 8 MiB; the kernel grants at most net.core.rmem_max.
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'))
    const clampedWarning = /"level":40,.*"clamped":true.*net\.core\.rmem_max=8388608/
    if (rmemMax < 8 * 1024 * 1024) expect(stderr).toMatch(clampedWarning)
    else expect(stderr).not.toMatch(clampedWarning)
  })
})

describe('shoal-recv, acknowledgements', () => {
  it('--ack answers a publisher waiting for acks, under --name', async () => {
    const { rx, pub } = await receiverWithPublisher(['--ack', '--name', 'rx-test'])
    try {
      const sent = await pub.publish('imu', Imu, imu(1), { ack: true })
      const report = await pub.waitForAcks(sent, { timeoutMs: WAIT_MS, expected: ['rx-test'] })
      expect(report.missing).toEqual([])
      expect(report.acked).toMatchObject([{ receiver: 'rx-test', address: '127.0.0.1' }])
    } finally {
      await pub.close()
      rx.child.kill('SIGTERM')
      expect((await rx.exited).code).toBe(0)
    }
  })

  it('without --ack, does not answer', async () => {
    const { rx, pub } = await receiverWithPublisher(['--name', 'rx-quiet'])
    try {
      const sent = await pub.publish('imu', Imu, imu(1), { ack: true })
      await waitForLines(rx, 1) // the frame arrived, so an ack would have been sent by now
      const report = await pub.waitForAcks(sent, { timeoutMs: 300, expected: ['rx-quiet'] })
      expect(report).toMatchObject({ acked: [], missing: ['rx-quiet'] })
    } finally {
      await pub.close()
      rx.child.kill('SIGTERM')
      await rx.exited
    }
  })
})

describe('shoal-recv --raw', () => {
  it('prints each datagram as text when printable, else as hex, with the sender address', async () => {
    const { rx, pub } = await receiverWithPublisher(['--raw', '--count', '3'])
    try {
      await pub.sendRaw(Buffer.from('hello, shoal ✓'))
      await pub.sendRaw(Uint8Array.from([0x00, 0x01, 0xfe, 0xff]))
      await pub.publish('imu', Imu, imu(1)) // a Shoal frame is just bytes in raw mode
      const result = await rx.exited
      expect(result.code).toBe(0)
      const from = { address: '127.0.0.1', port: pub.info.local.port }
      const lines = jsonLines(result.stdout)
      expect(lines[0]).toEqual({ receivedAt: expect.any(String), from, bytes: 16, text: 'hello, shoal ✓' })
      expect(lines[1]).toEqual({ receivedAt: expect.any(String), from, bytes: 4, hex: '0001feff' })
      expect(lines[2]).toMatchObject({ from, hex: expect.stringMatching(/^5348/) }) // "SH"
      expect(summaryLine(result.stderr)).toMatch(/: datagrams=3 bytes=\d+$/)
    } finally {
      await pub.close()
    }
  })
})

describe('shoal-recv, bad datagrams, /metrics and /healthz', () => {
  it('counts bad datagrams by reason in /metrics, keeps running, and counts frames exactly', async () => {
    const { group, port, rx, pub } = await receiverWithPublisher(['--http', '0'])
    const base = await httpBase(rx)
    try {
      const health = await fetch(`${base}/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: 'ready', groups: [group], port })

      const payload = Imu.encode(Imu.create(imu(1)))
      const corrupt = encodeWholeFrame(0, 0, 0x1234, 0, Imu.fingerprint, encodeTopic('imu'), payload)
      corrupt[corrupt.length - 6]! ^= 0xff
      await pub.sendRaw(Buffer.from('this is not a Shoal frame, just text long enough to have a header'))
      await pub.sendRaw(Buffer.from('SH'))
      await pub.sendRaw(corrupt)
      await pub.sendRaw(encodeWholeFrame(0, 0, 0x1234, 0, 0xdeadbeef, encodeTopic('mystery'), payload))
      for (let i = 0; i < 5; i++) await pub.publish('imu', Imu, imu(i))
      await pub.publish('temperature', Temperature, { celsius: 4 })
      await waitForLines(rx, 6)

      const metrics = parsePrometheusText(await (await fetch(`${base}/metrics`)).text())
      const source = sessionHex(pub.info.sessionId)
      expect(sampleValue(metrics, 'shoal_drops_total', { reason: 'bad-magic' })).toBe(1)
      expect(sampleValue(metrics, 'shoal_drops_total', { reason: 'truncated' })).toBe(1)
      expect(sampleValue(metrics, 'shoal_drops_total', { reason: 'bad-crc' })).toBe(1)
      // An unknown type is asked for in-band and its frame held for the schema (WIRE.md “Schemas”);
      // none comes, so it is counted unknown by the time the receiver stops (the summary below).
      expect(sampleValue(metrics, 'shoal_datagram_outcomes_total', { outcome: 'schema-wait' })).toBe(1)
      expect(sampleValue(metrics, 'shoal_schema_events_total', { event: 'held' })).toBe(1)
      expect(sampleValue(metrics, 'shoal_frames_total', { direction: 'in', topic: 'imu', source })).toBe(5)
      expect(
        sampleValue(metrics, 'shoal_frames_total', { direction: 'in', topic: 'temperature', source }),
      ).toBe(1)
      expect(sampleValue(metrics, 'shoal_gaps_total', { topic: 'imu', source })).toBe(0)
      // the session's source id (header.sourceId, a sender's --source-id), to join on `source`
      expect(sampleValue(metrics, 'shoal_source_info', { source, source_id: 'imu0' })).toBe(1)
      // the frames' and bad datagrams, and the publisher's heartbeats
      const beats = sampleValue(metrics, 'shoal_heartbeats_total', { direction: 'in' })
      expect(sampleValue(metrics, 'shoal_datagrams_total', { direction: 'in' })).toBe(10 + beats)
      expect(sampleValue(metrics, 'shoal_build_info', { service: 'shoal-recv' })).toBe(1)
      expect(rx.child.exitCode).toBeNull()

      rx.child.kill('SIGTERM')
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(summaryLine(result.stderr)).toMatch(
        /drops=4 dropsByReason=\{"bad-magic":1,"truncated":1,"bad-crc":1,"unknown-type":1\} /,
      )
      expect(result.stderr).toMatch(/"msg":"dropped a datagram \(bad-crc\)"/)
    } finally {
      await pub.close()
    }
  })

  it('counts gaps when frames go missing', async () => {
    const { rx, pub } = await receiverWithPublisher(['--count', '2'])
    try {
      const payload = Temperature.encode(Temperature.create({ celsius: 1 }))
      const topic = encodeTopic('temperature')
      await pub.sendRaw(encodeWholeFrame(0, 0, 0xabcd, 0, Temperature.fingerprint, topic, payload))
      await pub.sendRaw(encodeWholeFrame(0, 0, 0xabcd, 3, Temperature.fingerprint, topic, payload))
      const result = await rx.exited
      expect(jsonLines(result.stdout).map((line) => line.sequence)).toEqual([0, 3])
      expect(summaryLine(result.stderr)).toContain('frames=2 bytes=18 gaps=2 ')
    } finally {
      await pub.close()
    }
  })
})

describe('shoal-recv, stopping', () => {
  it('on SIGTERM leaves, prints a summary on stderr and nothing but frames on stdout, and exits 0', async () => {
    const { rx, pub } = await receiverWithPublisher()
    try {
      for (let i = 0; i < 4; i++) await pub.publish('imu', Imu, imu(i))
      await waitForLines(rx, 4)
      rx.child.kill('SIGTERM')
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout)).toHaveLength(4)
      expect(summaryLine(result.stderr)).toMatch(
        /^shoal-recv: stopped \(SIGTERM\) after [\d.]+s: frames=4 bytes=\d+ gaps=0 duplicates=0 drops=0 topics=\{"imu":4\} sources=\{"[0-9a-f]{8}":4\} sourceIds=\{"[0-9a-f]{8}":"imu0"\}$/,
      )
    } finally {
      await pub.close()
    }
  })

  it('--output none prints nothing on stdout but still counts', async () => {
    const { rx, pub } = await receiverWithPublisher(['--output', 'none', '--count', '2'])
    try {
      await pub.publish('imu', Imu, imu(1))
      await pub.publish('imu', Imu, imu(2))
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(result.stdout).toBe('')
      expect(summaryLine(result.stderr)).toContain('frames=2 ')
    } finally {
      await pub.close()
    }
  })

  it('--output pretty on a pipe prints frame lines and the stats block, no escape sequences', async () => {
    const { rx, pub } = await receiverWithPublisher(['--output', 'pretty', '--count', '2'])
    try {
      await pub.publish('temperature', Temperature, { celsius: 21.5 })
      await sleep(400) // at most one line per stream every 250 ms: after 400 the second is shown too
      await pub.publish('temperature', Temperature, { celsius: 22 })
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(result.stdout).not.toContain('\u001b')
      expect(result.stdout).toMatch(/ temperature {2}[0-9a-f]{8} #0 {2}21\.50 °C\n/)
      expect(result.stdout).toMatch(/ temperature {2}[0-9a-f]{8} #1 {2}22\.00 °C\n/)
      // a message without header.sourceId: `-` in the source id column
      expect(result.stdout).toMatch(/^[0-9a-f]{8} {2}- +temperature +[\d.]+ +2 +0 +0 +0$/m)
    } finally {
      await pub.close()
    }
  })
})

describe('shoal-recv and control characters from the network', () => {
  const CLEAR = '\u001b[2J'
  const TITLE = '\u001b]0;title\u0007'
  const topic = `room/${CLEAR}${TITLE}`
  const message = { value: 1, unit: `${CLEAR}\u009b1m`, quantity: `${TITLE}\u202e` }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
  const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

  it.each([
    ['pretty', '\\x1b[2J\\x1b]0;title\\x07'],
    ['json', '\\u001b[2J\\u001b]0;title\\u0007'],
  ])(
    '--output %s prints a hostile topic and fields escaped, and so does the summary',
    async (output, shown) => {
      const { rx, pub } = await receiverWithPublisher(['--output', output, '--count', '1'])
      try {
        await pub.publish(topic, Scalar, message)
        const result = await rx.exited
        expect(result.code).toBe(0)
        expect(result.stdout).toContain(`room/${shown}`)
        expect(result.stdout).not.toMatch(RAW_CONTROL)
        expect(result.stderr).not.toMatch(RAW_CONTROL)
        expect(summaryLine(result.stderr)).toContain('topics={"room/\\u001b[2J\\u001b]0;title\\u0007":1}')
        if (output === 'json') expect(jsonLines(result.stdout)[0]).toMatchObject({ topic, message })
      } finally {
        await pub.close()
      }
    },
  )
})
