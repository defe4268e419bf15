import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Channel } from '@foxglove/ws-protocol'
import { createDynamicRegistry, fileDescriptorSet, loadProtoTypes, registry } from '@shoal/schema'
import { describe, expect, it } from 'vitest'
import { type ChannelSink, ChannelTable } from './channels.js'
import { rawImageSchema } from './raw-image-schema.js'

class FakeSink implements ChannelSink {
  next = 0
  readonly live = new Map<number, Omit<Channel, 'id'>>()
  readonly removed: number[] = []
  addChannel(channel: Omit<Channel, 'id'>): number {
    this.live.set(++this.next, channel)
    return this.next
  }
  removeChannel(channelId: number): void {
    this.live.delete(channelId)
    this.removed.push(channelId)
  }
  topics(): string[] {
    return [...this.live.values()].map((channel) => channel.topic)
  }
}

describe('ChannelTable', () => {
  it('advertises a topic once, as protobuf with its type’s FileDescriptorSet', () => {
    const sink = new FakeSink()
    const table = new ChannelTable(sink)
    const first = table.channelsFor('imu', 'shoal.v1.Imu', 0)
    const again = table.channelsFor('imu', 'shoal.v1.Imu', 5)
    expect(again).toBe(first)
    expect(sink.live.size).toBe(1)
    expect(sink.live.get(1)).toEqual({
      topic: 'imu',
      encoding: 'protobuf',
      schemaName: 'shoal.v1.Imu',
      schema: Buffer.from(fileDescriptorSet('shoal.v1.Imu')!).toString('base64'),
      schemaEncoding: 'protobuf',
    })
    expect(table.has(1)).toBe(true)
    expect(table.channels).toBe(1)
  })

  it('gives a camera topic a second channel, TOPIC/raw_image, as foxglove.RawImage', () => {
    const sink = new FakeSink()
    const table = new ChannelTable(sink)
    const camera = table.channelsFor('front/camera', 'shoal.v1.Image', 0)
    expect(camera).toMatchObject({ own: 1, rawImage: 2 })
    expect(sink.live.get(2)).toEqual({
      topic: 'front/camera/raw_image',
      encoding: 'protobuf',
      schemaName: 'foxglove.RawImage',
      schema: Buffer.from(rawImageSchema().fileDescriptorSet).toString('base64'),
      schemaEncoding: 'protobuf',
    })
    expect(table.channels).toBe(2)
    expect(table.topics).toBe(1)
  })

  it('the same topic with another type is another channel', () => {
    const sink = new FakeSink()
    const table = new ChannelTable(sink)
    table.channelsFor('x', 'shoal.v1.Scalar', 0)
    table.channelsFor('x', 'shoal.v1.Temperature', 0)
    expect(sink.live.size).toBe(2)
  })

  it('refuses a type it has no schema for', () => {
    const sink = new FakeSink()
    expect(new ChannelTable(sink).channelsFor('x', 'other.Thing', 0)).toBe('unknown_type')
    expect(sink.live.size).toBe(0)
  })

  it('at the cap, refuses a new topic while every topic was heard recently', () => {
    const sink = new FakeSink()
    const table = new ChannelTable(sink, { maxTopics: 2, idleMs: 1_000 })
    table.channelsFor('a', 'shoal.v1.Scalar', 0)
    table.channelsFor('b', 'shoal.v1.Scalar', 0)
    expect(table.channelsFor('c', 'shoal.v1.Scalar', 999)).toBe('channel_limit')
    expect(sink.topics()).toEqual(['a', 'b'])
    expect(table.evictions).toBe(0)
  })

  it('at the cap, a new topic takes the place of the least recently heard one, quiet long enough', () => {
    const sink = new FakeSink()
    const table = new ChannelTable(sink, { maxTopics: 2, idleMs: 1_000 })
    table.channelsFor('a', 'shoal.v1.Image', 0)
    table.channelsFor('b', 'shoal.v1.Scalar', 0)
    table.channelsFor('a', 'shoal.v1.Image', 600) // a heard again: b is now the oldest
    expect(table.channelsFor('c', 'shoal.v1.Scalar', 1_000)).toMatchObject({ topic: 'c' })
    expect(sink.topics()).toEqual(['a', 'a/raw_image', 'c'])
    expect(table.evictions).toBe(1)
    // a's two channels go together
    expect(table.channelsFor('d', 'shoal.v1.Scalar', 1_599)).toBe('channel_limit')
    expect(table.channelsFor('d', 'shoal.v1.Scalar', 1_600)).toMatchObject({ topic: 'd' })
    expect(sink.removed).toEqual([3, 1, 2])
    expect(table.has(1)).toBe(false)
    expect(table.channels).toBe(2)
  })
})

describe('ChannelTable with a registry that learns types (schemaData)', () => {
  it('advertises a type added after start on its first frame, with the set it was loaded from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-channels-'))
    const proto = join(dir, 'wind.proto')
    writeFileSync(proto, 'syntax = "proto3";\npackage acme.v1;\nmessage Wind { double speed = 1; }\n')
    const Wind = loadProtoTypes([proto]).types[0]!
    rmSync(dir, { recursive: true, force: true })

    const types = createDynamicRegistry(registry)
    const sink = new FakeSink()
    const table = new ChannelTable(sink, { schemaData: (name) => types.descriptorSet(name) })
    // before the type is known: no channel, and nothing remembered against it
    expect(table.channelsFor('wind', 'acme.v1.Wind', 0)).toBe('unknown_type')
    expect(sink.live.size).toBe(0)
    expect(types.add(Wind)).toBe('added')
    const channels = table.channelsFor('wind', 'acme.v1.Wind', 1)
    expect(typeof channels).toBe('object')
    expect(sink.live.get(1)).toEqual({
      topic: 'wind',
      encoding: 'protobuf',
      schemaName: 'acme.v1.Wind',
      schema: Buffer.from(types.descriptorSet('acme.v1.Wind')!).toString('base64'),
      schemaEncoding: 'protobuf',
    })
    // built-in types still come with their own sets
    table.channelsFor('imu', 'shoal.v1.Imu', 2)
    expect(sink.live.get(2)?.schema).toBe(Buffer.from(fileDescriptorSet('shoal.v1.Imu')!).toString('base64'))
  })
})
