/** Simulated sensors over real sockets on 127.0.0.1, received by a transport subscriber. */
import { Image, Imu, NavSatFix, Temperature, uint64ToBigInt } from '@shoal/schema'
import { parsePrometheusText, sampleValue, startCli } from '@shoal/service/testing'
import type { ReceivedFrame } from '@shoal/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, type Collector, collect, endpointArgs, summaryOf, uniqueEndpoint, waitFor } from './support.js'

const open: Collector[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

function groupByTopic(frames: readonly ReceivedFrame[]): Record<string, ReceivedFrame[]> {
  const groups: Record<string, ReceivedFrame[]> = {}
  for (const frame of frames) {
    groups[frame.topic] ??= []
    groups[frame.topic]!.push(frame)
  }
  return groups
}

/** All four sensors at one rate, with small images, so a short run has every type. */
const FAST = ['--rate', 'imu=50,gps=50,temperature=50,camera=50', '--camera-size', '64x48']

describe('simulated sensors', () => {
  it('--count N sends exactly N frames of all four types, then exits 0 with the summary', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    open.push(rx)
    const running = startCli(BIN, [
      ...endpointArgs(endpoint),
      ...FAST,
      '--count',
      '40',
      '--source-id',
      'sim-1',
    ])
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= 40, 5000, '40 frames')

    const frames = rx.frames()
    expect(frames).toHaveLength(40)
    const byTopic = groupByTopic(frames)
    expect(Object.keys(byTopic).sort()).toEqual(['camera', 'gps', 'imu', 'temperature'])
    expect(byTopic.imu![0]!.typeName).toBe(Imu.typeName)
    expect(byTopic.gps![0]!.typeName).toBe(NavSatFix.typeName)
    expect(byTopic.temperature![0]!.typeName).toBe(Temperature.typeName)
    expect(byTopic.camera![0]!.typeName).toBe(Image.typeName)
    // Per topic, sequences run 0, 1, 2... with no gap.
    for (const list of Object.values(byTopic))
      expect(list!.map((f) => f.sequence)).toEqual(list!.map((_, i) => i))

    const image = byTopic.camera![0]!.message as {
      width: number
      height: number
      step: number
      data: Uint8Array
      encoding: string
    }
    expect(image).toMatchObject({ width: 64, height: 48, step: 192, encoding: 'rgb8' })
    expect(image.data).toHaveLength(192 * 48)
    const imu = byTopic.imu![0]!.message as { header: { sourceId: string; frameId: string; stampNs: never } }
    expect(imu.header).toMatchObject({ sourceId: 'sim-1', frameId: 'imu_link' })
    const stamp = uint64ToBigInt(imu.header.stampNs) / 1_000_000n
    expect(Math.abs(Number(stamp) - Date.now())).toBeLessThan(60_000) // a wall-clock stamp, not 0

    const summary = summaryOf(result.stderr)
    expect(summary.reason).toBe('count reached')
    expect(summary.fields.frames).toBe('40')
    const payloadBytes = frames.reduce((sum, f) => sum + f.payload.length, 0)
    expect(summary.fields.bytes).toBe(String(payloadBytes))
    const received = rx.subscriber.stats().received.filter((s) => s.source === frames[0]!.source.session)
    expect(received.reduce((sum, s) => sum + s.gaps, 0)).toBe(0)
  })

  it('stops on SIGTERM mid-run with exit 0 and a summary of what was sent', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--sensors', 'imu,gps'])
    await rx.follow(running)
    await waitFor(() => rx.frames().length >= 10, 10_000, '10 frames')
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    const summary = summaryOf(result.stderr)
    expect(summary.reason).toBe('SIGTERM')
    const sent = Number(summary.fields.frames)
    // Everything sent before the stop arrives (loopback, flushed on stop).
    await waitFor(() => rx.frames().length >= sent, 5000, `${sent} frames`)
    expect(rx.frames()).toHaveLength(sent)
    expect(Number(summary.fields.datagrams)).toBeGreaterThan(0)
  })

  it('the summary counts the receivers that reported during the run, one that left too', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint) // a subscriber reports STATUS (flow control) by default
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--sensors', 'imu', '--rate', 'imu=200'])
    await rx.follow(running)
    await waitFor(() => rx.frames().length >= 40, 10_000, '40 frames')
    await rx.close() // its last STATUS says it leaves: the sender lets it go at once
    await new Promise((resolve) => setTimeout(resolve, 100))
    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    expect(summaryOf(result.stderr).fields.receivers).toBe('1')
  })

  it('--duration ends the run with exit 0 and the summary', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--sensors', 'gps', '--duration', '300ms'])
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    const summary = summaryOf(result.stderr)
    expect(summary.reason).toBe('duration elapsed')
    const sent = Number(summary.fields.frames)
    expect(sent).toBeGreaterThan(0)
    await waitFor(() => rx.frames().length >= sent, 5000, `${sent} frames`)
    expect(rx.frames()).toHaveLength(sent)
  })

  it('/metrics counts match what was sent and received after a --count run', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    open.push(rx)
    // With --ack and a receiver that never answers, the sender waits --ack-timeout after the
    // last frame before it exits: the window in which /metrics is read.
    const running = startCli(BIN, [
      ...endpointArgs(endpoint),
      ...FAST,
      '--count',
      '25',
      '--ack',
      '--expect',
      'nobody',
      '--ack-timeout',
      '60s',
      '--http',
      '0',
    ])
    await rx.follow(running)
    const [, url] = await running.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/)
    await running.waitFor(/count reached after 25 frames; waiting up to 60000 ms/)
    await waitFor(() => rx.frames().length >= 25, 5000, '25 frames')

    const families = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    const frames = rx.frames()
    const session = frames[0]!.source.session
    for (const topic of ['imu', 'gps', 'temperature', 'camera']) {
      const mine = frames.filter((f) => f.topic === topic)
      const labels = { direction: 'out', topic, source: session }
      expect(sampleValue(families, 'shoal_frames_total', labels)).toBe(mine.length)
      expect(sampleValue(families, 'shoal_bytes_total', labels)).toBe(
        mine.reduce((sum, f) => sum + f.payload.length, 0),
      )
    }
    // the frames' datagrams: all sent, less the heartbeats the sender goes on sending while it waits
    const datagramsOut =
      sampleValue(families, 'shoal_datagrams_total', { direction: 'out' }) -
      sampleValue(families, 'shoal_heartbeats_total', { direction: 'out' })
    expect(datagramsOut).toBeGreaterThan(0)

    running.child.kill('SIGTERM')
    const result = await running.exited
    expect(result.code).toBe(0)
    const summary = summaryOf(result.stderr)
    expect(summary.fields).toMatchObject({ frames: '25', datagrams: String(datagramsOut) })
  })
})
