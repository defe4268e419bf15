import { describe, expect, it } from 'vitest'
import { createRegistry } from './registry.js'
import { Heartbeat, Image, Imu, NavSatFix, Scalar, Temperature } from './shoal-types.js'
import { createTopicMap, DEFAULT_TOPICS, defaultTopics } from './topics.js'

describe('defaultTopics', () => {
  it('maps the standard topics', () => {
    expect(defaultTopics.entries()).toEqual([
      ['imu', Imu],
      ['gps', NavSatFix],
      ['temperature', Temperature],
      ['camera', Image],
      ['heartbeat', Heartbeat],
    ])
    expect(defaultTopics.typeFor('camera')).toBe(Image)
    expect(defaultTopics.typeFor('lidar')).toBeUndefined()
  })

  it('is read-only', () => {
    expect(() => defaultTopics.set('imu', Temperature)).toThrow(/read-only/)
    expect(defaultTopics.typeFor('imu')).toBe(Imu)
    defaultTopics.entries().pop() // a copy: the map is unchanged
    expect(defaultTopics.entries()).toHaveLength(5)
  })
})

describe('createTopicMap', () => {
  it('starts from the default topics, as an independent copy', () => {
    const map = createTopicMap()
    map.set('imu', Scalar)
    expect(map.typeFor('imu')).toBe(Scalar)
    expect(defaultTopics.typeFor('imu')).toBe(Imu)
  })

  it('extends the defaults', () => {
    const map = createTopicMap({ ...DEFAULT_TOPICS, pressure: 'shoal.v1.Scalar' })
    expect(map.typeFor('pressure')).toBe(Scalar)
    expect(map.typeFor('gps')).toBe(NavSatFix)
  })

  it('starts empty from {}', () => {
    expect(createTopicMap({}).entries()).toEqual([])
  })

  it('sets by full type name or by handle, replacing an existing mapping', () => {
    const map = createTopicMap({})
    map.set('a', 'shoal.v1.Temperature')
    map.set('b', Heartbeat)
    map.set('a', 'shoal.v1.Scalar')
    expect(map.entries()).toEqual([
      ['a', Scalar],
      ['b', Heartbeat],
    ])
  })

  it('rejects a type name the registry does not know, listing the known ones', () => {
    const map = createTopicMap({})
    expect(() => map.set('x', 'shoal.v1.Lidar')).toThrow(
      /unknown type "shoal\.v1\.Lidar" for topic "x".*shoal\.v1\.Imu/,
    )
    expect(() => map.set('x', 'Imu')).toThrow(/unknown type "Imu"/)
    expect(() => createTopicMap({ x: 'nope' })).toThrow(/unknown type "nope"/)
  })

  it('rejects an empty topic', () => {
    expect(() => createTopicMap({}).set('', Imu)).toThrow(/non-empty/)
  })

  it('resolves names in the registry it is given', () => {
    const onlyImu = createRegistry([Imu])
    expect(createTopicMap({ i: 'shoal.v1.Imu' }, onlyImu).typeFor('i')).toBe(Imu)
    expect(() => createTopicMap({ t: 'shoal.v1.Temperature' }, onlyImu)).toThrow(/unknown type/)
    expect(() => createTopicMap(undefined, onlyImu)).toThrow(/shoal\.v1\.NavSatFix/)
  })
})
