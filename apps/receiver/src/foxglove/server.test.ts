import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { setImmediate as tick } from 'node:timers/promises'
import type { ReceivedFrame } from '@shoal/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { connectViewer, type Viewer } from '../../test/foxglove-client.js'
import { SAMPLES, type Sample } from '../../test/samples.js'
import { FOXGLOVE_SERVER_NAME } from './limits.js'
import {
  type FoxgloveBridge,
  type FoxgloveBridgeOptions,
  originAllowed,
  startFoxgloveBridge,
} from './server.js'

const RECEIVED_AT = 1_750_000_000_000

/** A frame as the subscriber hands it over: payload as on the wire, message decoded from it. */
function frameOf(sample: Sample, receivedAt = RECEIVED_AT): ReceivedFrame {
  const payload = sample.type.encode(sample.type.create(sample.message)).slice()
  return {
    topic: sample.topic,
    typeName: sample.type.typeName,
    fingerprint: sample.type.fingerprint,
    message: sample.type.decode(payload),
    payload,
    source: { sessionId: 1, session: '00000001', address: '127.0.0.1', port: 7400 },
    sequence: 0,
    hops: 0,
    ackRequested: false,
    receivedAt,
  }
}

const sample = (topic: string): Sample => SAMPLES.find((s) => s.topic === topic)!
const camera = sample('camera')

let bridge: FoxgloveBridge | undefined
const viewers: Viewer[] = []

async function start(options: Partial<FoxgloveBridgeOptions> = {}): Promise<FoxgloveBridge> {
  bridge = await startFoxgloveBridge({ host: '127.0.0.1', port: 0, ...options })
  return bridge
}

async function viewer(minChannels = 0): Promise<Viewer> {
  const v = await connectViewer(bridge!.url, minChannels)
  viewers.push(v)
  return v
}

afterEach(async () => {
  for (const v of viewers.splice(0)) await v.close()
  await bridge?.close()
  bridge = undefined
})

describe('Foxglove server', () => {
  it('advertises every topic as protobuf; the official client decodes each message to what was sent', async () => {
    const server = await start()
    for (const s of SAMPLES) server.publish(frameOf(s)) // topics exist before the client comes
    const v = await viewer(SAMPLES.length + 1)
    expect(v.serverName()).toBe(FOXGLOVE_SERVER_NAME)
    expect(Object.fromEntries([...v.channels].map(([topic, c]) => [topic, c.schemaName]))).toEqual({
      imu: 'shoal.v1.Imu',
      gps: 'shoal.v1.NavSatFix',
      temperature: 'shoal.v1.Temperature',
      'scalar/pressure': 'shoal.v1.Scalar',
      camera: 'shoal.v1.Image',
      'camera/raw_image': 'foxglove.RawImage',
      heartbeat: 'shoal.v1.Heartbeat',
    })
    for (const topic of v.channels.keys()) v.subscribe(topic)
    await v.until(() => server.stats().connections.accepted === 1, 'the connection')
    // Subscriptions are processed in order before anything published after a round trip.
    await v.until(() => {
      server.publish(frameOf(sample('heartbeat')))
      return v.messages.length > 0
    }, 'the subscriptions to take effect')
    for (const s of SAMPLES) server.publish(frameOf(s))
    const topics = () => new Set(v.messages.map((m) => m.channel.topic)).size
    await v.until(() => topics() === SAMPLES.length + 1, 'a message on every channel')

    for (const s of SAMPLES) {
      const message = v.messages.find((m) => m.channel.topic === s.topic)!
      expect(message.timestamp).toBe(BigInt(RECEIVED_AT) * 1_000_000n)
      const expected = s.type.toObject(s.type.create(s.message))
      expect(v.decode(message)).toEqual(expected)
    }
    const raw = v.messages.find((m) => m.channel.topic === 'camera/raw_image')!
    expect(v.decode(raw)).toEqual({
      timestamp: { seconds: '1700000000', nanos: 123_456_789 },
      frameId: 'base_link',
      width: 400,
      height: 250,
      encoding: 'rgb8',
      step: 1200,
      data: Buffer.from(camera.message.data as Uint8Array).toString('base64'),
    })
    expect(v.errors).toEqual([])
    expect(server.stats()).toMatchObject({ clients: 1, channels: 7, topics: 6 })
  })

  it('a new topic is advertised to clients already connected', async () => {
    const server = await start()
    const v = await viewer()
    server.publish(frameOf(sample('imu')))
    await v.until(() => v.channels.has('imu'), 'the imu channel')
    expect(v.channels.get('imu')!.encoding).toBe('protobuf')
  })

  it('unsubscribe stops the messages of that channel only', async () => {
    const server = await start()
    server.publish(frameOf(sample('imu')))
    server.publish(frameOf(sample('gps')))
    const v = await viewer(2)
    const imu = v.subscribe('imu')
    await v.until(() => {
      server.publish(frameOf(sample('imu')))
      return v.messages.length > 0
    }, 'an imu message')
    v.unsubscribe(imu)
    v.subscribe('gps')
    // The server handles requests in order: once gps flows, imu has been unsubscribed.
    await v.until(() => {
      server.publish(frameOf(sample('gps')))
      return v.messages.some((m) => m.channel.topic === 'gps')
    }, 'a gps message')
    const imuBefore = v.messages.filter((m) => m.channel.topic === 'imu').length
    const gpsBefore = v.messages.length - imuBefore
    for (let i = 0; i < 3; i++) server.publish(frameOf(sample('imu')))
    server.publish(frameOf(sample('gps')))
    // Messages arrive in the order sent: the gps one after any imu one.
    await v.until(() => v.messages.length - imuBefore > gpsBefore, 'the last gps message')
    expect(v.messages.filter((m) => m.channel.topic === 'imu')).toHaveLength(imuBefore)
  })

  it('sends nothing, and converts no image, for a channel nobody subscribed to', async () => {
    const server = await start()
    const v = await viewer()
    server.publish(frameOf(camera))
    await v.until(() => v.channels.size === 2, 'the camera channels')
    v.subscribe('camera')
    await v.until(() => {
      server.publish(frameOf(camera))
      return v.messages.length > 0
    }, 'a camera message')
    expect(new Set(v.messages.map((m) => m.channel.topic))).toEqual(new Set(['camera']))
    expect(server.stats().dropped.image_conversion).toBe(0)
  })

  it('counts frames of unknown type, and keeps serving', async () => {
    const server = await start()
    server.publish({ ...frameOf(sample('imu')), typeName: undefined })
    expect(server.stats().dropped.unknown_type).toBe(1)
    expect(server.stats().channels).toBe(0)
  })

  it('survives garbage requests and broken WebSocket frames, counting them', async () => {
    const server = await start()
    server.publish(frameOf(sample('imu')))
    const raw = new WebSocket(server.url, ['foxglove.websocket.v1'])
    await once(raw, 'open')
    for (const garbage of [
      'not json',
      'null',
      '{"op":"subscribe","subscriptions":5}',
      '{"op":"nonsense"}',
      '{"op":"unsubscribe"}',
    ])
      raw.send(garbage)
    raw.send(Uint8Array.from([0xff, 1, 2, 3]))
    raw.send(Uint8Array.from([]))
    await new Promise((resolve) => setTimeout(resolve, 100))
    // An unmasked client frame breaks RFC 6455: ws closes that connection.
    const socket = connect(server.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: foxglove.websocket.v1\r\n\r\n',
    )
    await once(socket, 'data')
    socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]))
    await once(socket, 'close')

    const v = await viewer(1)
    v.subscribe('imu')
    await v.until(() => {
      server.publish(frameOf(sample('imu')))
      return v.messages.length > 0
    }, 'an imu message after the garbage')
    expect(v.decode(v.messages[0]!)).toEqual(TO_OBJECT_OF_IMU)
    const errors = server.stats().clientErrors
    expect(errors.bad_message).toBeGreaterThanOrEqual(5)
    expect(errors.socket_error).toBe(1)
    raw.close()
  })

  it('refuses a client past the max (1013) and one without the Foxglove subprotocol (1002)', async () => {
    const server = await start({ maxClients: 1 })
    await viewer()
    const extra = new WebSocket(server.url, ['foxglove.websocket.v1'])
    const [code] = (await once(extra, 'close')) as [number]
    expect(code).toBe(1013)
    const plain = new WebSocket(server.url)
    const [plainCode] = (await once(plain, 'close')) as [number]
    expect(plainCode).toBe(1002)
    expect(server.stats().connections).toEqual({
      accepted: 1,
      max_clients: 1,
      wrong_protocol: 1,
      bad_origin: 0,
    })
    expect(server.stats().clients).toBe(1)
  })

  it("refuses a web page from an origin not allowed (403, before the upgrade): any page in the host's browser could watch otherwise", async () => {
    const server = await start({ allowedOrigins: ['https://app.foxglove.dev'] })
    const page = new WebSocket(server.url, ['foxglove.websocket.v1'], { origin: 'https://evil.example' })
    page.on('error', () => {}) // ws reports the refused handshake as an error too
    const [, response] = (await once(page, 'unexpected-response')) as [unknown, IncomingMessage]
    expect(response.statusCode).toBe(403)
    response.destroy()
    const foxglove = new WebSocket(server.url, ['foxglove.websocket.v1'], {
      origin: 'https://app.foxglove.dev',
    })
    await once(foxglove, 'open')
    foxglove.close()
    await viewer() // a client that is not a browser sends no Origin
    expect(server.stats().connections).toMatchObject({ accepted: 2, bad_origin: 1 })
  })

  it('caps subscriptions per client, telling the client why', async () => {
    const server = await start({ maxSubscriptions: 2 })
    for (const topic of ['imu', 'gps', 'temperature']) server.publish(frameOf(sample(topic)))
    const v = await viewer(3)
    for (const topic of ['imu', 'gps', 'temperature']) v.subscribe(topic)
    await v.until(() => v.statuses.length > 0, 'the refusal')
    expect(v.statuses[0]).toMatchObject({
      level: 2,
      message: expect.stringContaining('at most 2 subscriptions'),
    })
    await v.until(() => {
      for (const topic of ['imu', 'gps', 'temperature']) server.publish(frameOf(sample(topic)))
      return v.messages.length >= 6
    }, 'messages')
    expect(new Set(v.messages.map((m) => m.channel.topic))).toEqual(new Set(['imu', 'gps']))
    expect(server.stats().clientErrors.subscription_limit).toBe(1)
  })

  it('a client that stops reading has messages dropped, one warning, and its queue stays within the cap', async () => {
    const sendBufferBytes = 1024 * 1024
    const server = await start({ sendBufferBytes })
    server.publish(frameOf(camera))
    const v = await viewer(2)
    v.subscribe('camera')
    await v.until(() => {
      server.publish(frameOf(camera))
      return v.messages.length > 0
    }, 'a camera frame')
    v.ws.pause() // the socket stops being read: TCP pushes back once the kernel buffers are full
    const frameBytes = frameOf(camera).payload.byteLength
    let published = 0
    // Bounded: enough frames to fill kernel buffers many times over.
    while (server.stats().dropped.send_buffer < 20 && published < 2_000) {
      server.publish(frameOf(camera))
      published++
      await tick()
    }
    const stalled = server.stats()
    expect(stalled.dropped.send_buffer).toBeGreaterThanOrEqual(20)
    expect(stalled.slowSpells).toBe(1)
    // A message is queued only while it fits, or into an empty queue; the warning comes on top.
    expect(stalled.peakBufferedBytes).toBeLessThanOrEqual(sendBufferBytes + 1024)
    expect(stalled.peakBufferedBytes).toBeGreaterThan(sendBufferBytes - frameBytes - 1024)

    v.ws.resume()
    await v.until(() => v.statuses.length > 0, 'the warning')
    expect(v.statuses).toEqual([
      expect.objectContaining({ level: 1, message: expect.stringContaining('not keeping up') }),
    ])
    await v.until(() => {
      server.publish(frameOf(camera))
      return v.statuses.length > 1
    }, 'the caught-up note')
    expect(v.statuses[1]).toMatchObject({
      level: 0,
      message: expect.stringContaining(`${stalled.dropped.send_buffer} messages`),
    })
    expect(server.stats().slowSpells).toBe(1)
  })

  it('close() disconnects clients, a paused one too', async () => {
    const server = await start()
    const v = await viewer()
    v.ws.pause()
    const closed = once(v.ws, 'close')
    await server.close()
    bridge = undefined
    v.ws.resume()
    await closed
    expect(v.ws.readyState).toBe(WebSocket.CLOSED)
  })
})

const TO_OBJECT_OF_IMU = sample('imu').type.toObject(sample('imu').type.create(sample('imu').message))

describe('originAllowed', () => {
  const defaults = ['https://app.foxglove.dev', 'file://']
  it.each([
    [undefined, true],
    ['https://app.foxglove.dev', true],
    ['HTTPS://APP.FOXGLOVE.DEV/', true],
    ['file://', true],
    ['https://app.foxglove.dev.evil.example', false],
    ['http://app.foxglove.dev', false],
    ['null', false],
    ['http://localhost:3000', false],
  ])('%s → %s', (origin, allowed) => {
    expect(originAllowed(origin, defaults)).toBe(allowed)
  })
  it('* lets every page in', () => {
    expect(originAllowed('https://anything.example', ['*'])).toBe(true)
  })
})
