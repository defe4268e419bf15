/** --ack and --expect against a transport subscriber that acknowledges as `r1`, on 127.0.0.1. */
import { startCli } from '@shoal/service/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, type Collector, collect, endpointArgs, summaryOf, uniqueEndpoint, waitFor } from './support.js'

const open: Collector[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

describe('--ack', () => {
  it('reports r1 as acking every frame and an --expect-ed r2 as missing', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint, { ack: true, name: 'r1' })
    open.push(rx)
    const running = startCli(BIN, [
      ...endpointArgs(endpoint),
      '--sensors',
      'imu,temperature',
      '--rate',
      'imu=50,temperature=50',
      '--count',
      '6',
      '--expect',
      'r1,r2',
      '--ack-timeout',
      '500ms',
    ])
    await rx.follow(running)
    const result = await running.exited
    // r2 never acknowledged: the run failed at what --expect asked (exit 3), and says who was missing.
    expect(result.code).toBe(3)
    expect(result.stderr).toContain(
      'shoal-send: error: expected receivers missing: r2 (never acknowledged, 6 frames)',
    )
    await waitFor(() => rx.frames().length >= 6, 5000, '6 frames')
    expect(rx.frames().every((f) => f.ackRequested)).toBe(true)

    expect(summaryOf(result.stderr)).toMatchObject({
      reason: 'count reached',
      fields: { frames: '6', acks: '6', acked: 'r1:6', missing: 'r2:6', unacked: '0' },
    })
    expect(result.stderr).toMatch(/"msg":"r2 did not acknowledge (imu|temperature) #0 within 500 ms/)
    const final = result.stderr.split('\n').find((line) => line.includes('"msg":"acknowledgements:'))
    expect(JSON.parse(final!)).toMatchObject({ acked: { r1: 6 }, missing: { r2: 6 }, acks: 6 })
  })

  it('without --expect, counts the receivers that answered and frames nobody acked', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint) // receives, never acks
    open.push(rx)
    const running = startCli(
      BIN,
      [...endpointArgs(endpoint), '--input', '-', '--ack', '--ack-timeout', '300ms'],
      {
        input:
          '{"topic":"temperature","message":{"celsius":20}}\n{"topic":"temperature","message":{"celsius":21}}\n',
      },
    )
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= 2, 5000, '2 frames')
    expect(summaryOf(result.stderr).fields).toMatchObject({
      frames: '2',
      acks: '0',
      acked: 'none',
      missing: 'none',
      unacked: '2',
    })
    expect(result.stderr).toMatch(/no receiver acknowledged temperature #0 within 300 ms/)
  })
})
