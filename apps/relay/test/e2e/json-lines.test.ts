/**
 * JSON lines as the common format of the two ends, on loopback (interface 127.0.0.1): what
 * `shoal-recv --output json --full` prints, `shoal-send --input -` publishes again unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertBuilt,
  type FrameLine,
  frames,
  loopbackEndpoint,
  type Running,
  startLocal,
  stopAll,
  stoppedSummary,
} from './support.js'

const LOOPBACK = '127.0.0.1'
const running: Running[] = []

/** Flags for a loopback group and port no other suite uses at the same time. */
function endpoint() {
  const { group, port } = loopbackEndpoint()
  return ['--interface', LOOPBACK, '--group', group, '--port', String(port)]
}

function start(app: 'send' | 'recv', args: string[], input?: string) {
  const p = startLocal(app, args, { input })
  running.push(p)
  return p
}

beforeAll(() => assertBuilt())
afterAll(() => stopAll(running))

describe('shoal-recv --output json --full | shoal-send --input -', () => {
  it('publishes every printed frame again: same topics, types and messages, camera pixels included', async () => {
    const first = endpoint()
    const second = endpoint()
    const count = 100
    const recv1 = start('recv', [...first, '--output', 'json', '--full'])
    await recv1.waitForLog('ready')
    const sensors = ['--rate', 'imu=1000,gps=100,temperature=20,camera=20', '--camera-size', '64x48']
    const send1 = start('send', [...first, '--count', String(count), ...sensors])
    expect((await send1.exited()).code).toBe(0)
    await recv1.waitUntil(`${count} frames`, () => (frames(recv1).length >= count ? true : undefined))
    await recv1.stop()
    const lines = recv1.stdout()

    const recv2 = start('recv', [...second, '--output', 'json', '--full'])
    await recv2.waitForLog('ready')
    const send2 = start('send', [...second, '--input', '-'], lines)
    expect(stoppedSummary(await send2.exited())).toMatchObject({ frames: count, lines: count, badLines: 0 })
    await recv2.waitUntil(`${count} frames`, () => (frames(recv2).length >= count ? true : undefined))

    const content = (got: FrameLine[]) =>
      got.map(({ topic, type, fingerprint, message }) => ({ topic, type, fingerprint, message }))
    expect(content(frames(recv2))).toEqual(content(frames(recv1)))
    const camera = frames(recv2).find((f) => f.topic === 'camera')!
    expect(Buffer.from(camera.message.data as string, 'base64')).toHaveLength(64 * 48 * 3)
    expect(stoppedSummary(await recv2.stop())).toMatchObject({ frames: count, gaps: 0, drops: 0 })
  })
})
