/**
 * shoal-recv --foxglove end to end: the built receiver, fed by a real publisher over multicast on
 * loopback (interface 127.0.0.1), watched by the official Foxglove client over ws on 127.0.0.1.
 */
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Image, loadProtoTypes, toUint64 } from '@shoal/schema'
import type { RunningCli } from '@shoal/service/testing'
import { parsePrometheusText, runCli, sampleValue } from '@shoal/service/testing'
import type { Publisher } from '@shoal/transport'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { connectViewer, type Viewer } from './foxglove-client.js'
import { expectedObject, SAMPLES, type Sample } from './samples.js'
import { BIN, httpBase, receiverWithPublisher, requireBuild, until, WAIT_MS } from './support.js'

beforeAll(requireBuild)

interface Running {
  rx: RunningCli
  pub: Publisher
  url: string
  metrics: () => Promise<ReturnType<typeof parsePrometheusText>>
}

const open: Array<{ close(): unknown }> = []
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close()
})

/** shoal-recv with --foxglove on a free port and /metrics, and a loopback publisher to it. */
async function receiverWithFoxglove(extra: readonly string[] = []): Promise<Running> {
  const { rx, pub } = await receiverWithPublisher([
    '--foxglove',
    '0',
    '--http',
    '0',
    '--output',
    'none',
    ...extra,
  ])
  open.push(
    {
      close: async () => {
        rx.child.kill('SIGTERM')
        await rx.exited
      },
    },
    pub,
  )
  const [, url] = await rx.waitFor(/"foxglove":"(ws:\/\/127\.0\.0\.1:\d+)"/)
  const base = await httpBase(rx)
  // Only the Foxglove series: the process ones may hold a NaN the parser refuses ("Nan").
  const metrics = async () => {
    const text = await (await fetch(`${base}/metrics`)).text()
    return parsePrometheusText(
      text
        .split('\n')
        .filter((line) => line.includes('shoal_foxglove_'))
        .map((line) => `${line}\n`)
        .join(''),
    )
  }
  return { rx, pub, url: url!, metrics }
}

async function viewer(url: string, minChannels: number): Promise<Viewer> {
  const v = await connectViewer(url, minChannels)
  open.push(v)
  return v
}

async function publishAll(pub: Publisher, samples: readonly Sample[] = SAMPLES): Promise<void> {
  for (const s of samples) await pub.publish(s.topic, s.type, s.message)
}

/** Publishes `samples` again and again until `predicate` holds (bounded by WAIT_MS). */
async function publishUntil(
  pub: Publisher,
  samples: readonly Sample[],
  predicate: () => boolean,
  what: string,
): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await publishAll(pub, samples)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const sample = (topic: string): Sample => SAMPLES.find((s) => s.topic === topic)!

describe('shoal-recv --foxglove', () => {
  it('a Foxglove client sees every topic, subscribes, and decodes what was sent, camera frames as RawImage too', async () => {
    const { pub, url, metrics } = await receiverWithFoxglove()
    await publishAll(pub)
    const v = await viewer(url, SAMPLES.length + 1)
    expect(new Map([...v.channels].map(([topic, c]) => [topic, [c.encoding, c.schemaName]]))).toEqual(
      new Map([
        ...SAMPLES.map((s) => [s.topic, ['protobuf', s.type.typeName]] as const),
        ['camera/raw_image', ['protobuf', 'foxglove.RawImage']],
      ]),
    )
    for (const topic of v.channels.keys()) v.subscribe(topic)
    const topicsSeen = () => new Set(v.messages.map((m) => m.channel.topic)).size
    await publishUntil(pub, SAMPLES, () => topicsSeen() === SAMPLES.length + 1, 'a message on every channel')

    for (const s of SAMPLES) {
      const received = v.messages.filter((m) => m.channel.topic === s.topic)
      for (const message of received) expect(v.decode(message)).toEqual(expectedObject(s))
    }
    const camera = sample('camera')
    const rawImages = v.messages.filter((m) => m.channel.topic === 'camera/raw_image')
    for (const message of rawImages) {
      expect(v.decode(message)).toEqual({
        timestamp: { seconds: '1700000000', nanos: 123_456_789 },
        frameId: 'base_link',
        width: 400,
        height: 250,
        encoding: 'rgb8',
        step: 1200,
        data: Buffer.from(camera.message.data as Uint8Array).toString('base64'),
      })
    }
    expect(v.errors).toEqual([])
    const families = await metrics()
    expect(sampleValue(families, 'shoal_foxglove_clients')).toBe(1)
    expect(sampleValue(families, 'shoal_foxglove_channels')).toBe(SAMPLES.length + 1)
    expect(sampleValue(families, 'shoal_foxglove_messages_sent_total')).toBeGreaterThanOrEqual(
      v.messages.length,
    )
  })

  it('a --proto type that is not built in gets a channel with its schema, and the client decodes it', async () => {
    const proto = fileURLToPath(new URL('./fixtures/proto/wind.proto', import.meta.url))
    const Wind = loadProtoTypes([proto]).types.find((type) => type.typeName === 'acme.v1.Wind')!
    const { pub, url } = await receiverWithFoxglove(['--proto', proto])
    const wind: Sample = {
      topic: 'weather/wind',
      type: Wind,
      message: Wind.fromObject({
        header: { sourceId: 'mast1' },
        speed: 7.5,
        gusts: [9, 10.25],
        site: 'pier',
      }) as Record<string, unknown>,
    }
    await publishAll(pub, [wind])
    const v = await viewer(url, 1)
    expect(v.channels.get('weather/wind')).toMatchObject({ encoding: 'protobuf', schemaName: 'acme.v1.Wind' })
    v.subscribe('weather/wind')
    await publishUntil(pub, [wind], () => v.messages.length > 0, 'a wind message')
    expect(v.decode(v.messages[0]!)).toMatchObject({
      header: { sourceId: 'mast1' },
      speed: 7.5,
      gusts: [9, 10.25],
      site: 'pier',
    })
    expect(v.errors).toEqual([])
  })

  it('unsubscribe stops the messages of that topic', async () => {
    const { pub, url } = await receiverWithFoxglove()
    const imu = sample('imu')
    const gps = sample('gps')
    await publishAll(pub, [imu, gps])
    const v = await viewer(url, 2)
    const subscription = v.subscribe('imu')
    await publishUntil(pub, [imu], () => v.messages.length > 0, 'an imu message')
    v.unsubscribe(subscription)
    v.subscribe('gps')
    // Requests are handled in order: once gps flows, imu is unsubscribed.
    await publishUntil(pub, [gps], () => v.messages.some((m) => m.channel.topic === 'gps'), 'a gps message')
    const imuCount = () => v.messages.filter((m) => m.channel.topic === 'imu').length
    const imuBefore = imuCount()
    const gpsBefore = v.messages.length - imuBefore
    await publishAll(pub, [imu, imu, imu, gps])
    // The receiver delivers a sender's frames in order, and the server sends in order: gps comes last.
    await until(() => v.messages.length - imuCount() > gpsBefore, WAIT_MS, 'the last gps message')
    expect(imuCount()).toBe(imuBefore)
  })

  it('a client that stops reading: messages to it are dropped and it is warned; its queue stays within the cap', async () => {
    const sendBuffer = 1024 * 1024
    const { pub, url, metrics } = await receiverWithFoxglove(['--foxglove-send-buffer', '1MiB'])
    const big: Sample = {
      topic: 'camera',
      type: Image,
      message: {
        header: { sourceId: 'cam0', frameId: 'camera', stampNs: toUint64(1n) },
        width: 1024,
        height: 1024,
        encoding: 'mono8',
        step: 1024,
        data: new Uint8Array(1024 * 1024).fill(7),
      },
    }
    await publishAll(pub, [big])
    const v = await viewer(url, 2)
    v.subscribe('camera')
    await publishUntil(pub, [big], () => v.messages.length > 0, 'a camera frame')
    v.ws.pause() // stops reading its socket: TCP pushes back once the kernel's buffers are full
    const dropped = async () =>
      sampleValue(await metrics(), 'shoal_foxglove_messages_dropped_total', { reason: 'send_buffer' })
    // Bounded: the kernel buffers hold about ten of these frames; 300 are far more.
    for (let i = 0; i < 300 && (await dropped()) < 5; i++) await publishAll(pub, [big])
    const families = await metrics()
    expect(
      sampleValue(families, 'shoal_foxglove_messages_dropped_total', { reason: 'send_buffer' }),
    ).toBeGreaterThanOrEqual(5)
    expect(sampleValue(families, 'shoal_foxglove_slow_client_spells_total')).toBeGreaterThanOrEqual(1)
    // One message past the cap at most when the queue was empty; the warning on top.
    expect(sampleValue(families, 'shoal_foxglove_send_buffer_peak_bytes')).toBeLessThanOrEqual(
      sendBuffer + 64 * 1024,
    )
    v.ws.resume()
    // The first drop can come while the stopped client's kernel buffers are still filling; if they
    // then take half the cap's worth more, that spell ends and a second one begins. However many
    // spells there were, each has one warning, then one note with its count, in that order.
    // (That the queue must drain to half the cap first is pinned without sockets, in client-gate.test.ts.)
    await publishUntil(pub, [big], () => v.statuses.at(-1)?.level === 0, 'a caught-up note')
    const warnings = () => v.statuses.filter((s) => s.level === 1).length
    let spells = Number.NaN
    for (const deadline = Date.now() + WAIT_MS; spells !== warnings(); ) {
      if (Date.now() > deadline) throw new Error(`${spells} slow spells but ${warnings()} warnings`)
      await new Promise((resolve) => setTimeout(resolve, 20))
      spells = sampleValue(await metrics(), 'shoal_foxglove_slow_client_spells_total')
    }
    expect(v.statuses.length).toBeGreaterThanOrEqual(2)
    expect(v.statuses).toEqual(
      v.statuses.map((_, i) =>
        i % 2 === 0
          ? expect.objectContaining({ level: 1, message: expect.stringContaining('not keeping up') })
          : expect.objectContaining({
              level: 0,
              message: expect.stringContaining('messages to this client were dropped'),
            }),
      ),
    )
  })

  it('garbage from a client is counted and never stops the receiver', async () => {
    const { rx, pub, url, metrics } = await receiverWithFoxglove()
    const raw = new WebSocket(url, ['foxglove.websocket.v1'])
    open.push({ close: () => raw.close() })
    await once(raw, 'open')
    for (const garbage of ['{', 'null', '[1,2]', '{"op":"subscribe","subscriptions":{"a":1}}'])
      raw.send(garbage)
    raw.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    await until(
      () => rx.stderr().includes('"msg":"foxglove client connected"'),
      WAIT_MS,
      'the garbage client to be seen',
    )
    const imu = sample('imu')
    await publishAll(pub, [imu])
    const v = await viewer(url, 1)
    v.subscribe('imu')
    await publishUntil(pub, [imu], () => v.messages.length > 0, 'an imu message')
    expect(v.decode(v.messages[0]!)).toEqual(expectedObject(imu))
    const errors = sampleValue(await metrics(), 'shoal_foxglove_client_errors_total', {
      reason: 'bad_message',
    })
    expect(errors).toBeGreaterThanOrEqual(4)
    expect(rx.child.exitCode).toBeNull()
  })

  it('a port in use fails the start (exit 1), naming the error', async () => {
    const blocker = createServer()
    blocker.listen(0, '127.0.0.1')
    await once(blocker, 'listening')
    open.push({ close: () => new Promise((resolve) => blocker.close(resolve)) })
    const { port } = blocker.address() as { port: number }
    const result = await runCli(BIN, [
      '--foxglove',
      String(port),
      '--group',
      '239.255.9.9',
      '--port',
      '47999',
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('EADDRINUSE')
  })

  it('an invalid --foxglove exits 2 naming the flag', async () => {
    const result = await runCli(BIN, ['--foxglove', 'eighty'])
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toContain('--foxglove')
  })
})
