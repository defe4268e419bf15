import { Flag } from '@shoal/transport/wire'
import { describe, expect, it } from 'vitest'
import { datagram, FakeInput, FakeOutput, OUTSIDER, OWN, settle, setup } from '../test/forwarder-fakes.js'
import { totalDropped } from './counters.js'

describe('Forwarder', () => {
  it('forwards to every output whose topic filter matches, hop count + 1', async () => {
    const all = new FakeOutput('all')
    const imu = new FakeOutput('imu', ['imu'])
    const sensors = new FakeOutput('sensors', ['sensors/*'])
    const { forwarder } = setup([new FakeInput('in')], [all, imu, sensors])
    forwarder.datagram(0, datagram('imu', { hops: 2 }))
    forwarder.datagram(0, datagram('sensors/gps', { sequence: 1 }))
    forwarder.datagram(0, datagram('camera', { sequence: 2 }))
    await settle()
    expect(all.got.map((g) => g.topic)).toEqual(['imu', 'sensors/gps', 'camera'])
    expect(imu.got).toEqual([{ topic: 'imu', hops: 3, sequence: 0 }])
    expect(sensors.got).toEqual([{ topic: 'sensors/gps', hops: 1, sequence: 1 }])
    expect(forwarder.counters()).toMatchObject({
      received: 3,
      forwarded: 3,
      outputs: [
        { route: 'all', sent: 3, errors: 0 },
        { route: 'imu', sent: 1, errors: 0 },
        { route: 'sensors', sent: 1, errors: 0 },
      ],
    })
  })

  it('drops what no output wants, and what the input route or --topic filters out, as filtered', () => {
    const { forwarder } = setup(
      [new FakeInput('all'), new FakeInput('gps only', ['gps'])],
      [new FakeOutput('imu', ['imu']), new FakeOutput('gps', ['gps'])],
    )
    forwarder.datagram(0, datagram('camera'))
    forwarder.datagram(1, datagram('imu'))
    forwarder.datagram(1, datagram('gps'))
    expect(forwarder.counters()).toMatchObject({ received: 3, forwarded: 1, dropped: { filtered: 2 } })
  })

  it('checks in order: own output (loop), filters, hop limit, duplicate; received = forwarded + drops', () => {
    const { forwarder } = setup([new FakeInput('in')], [new FakeOutput('out', ['imu'])], 2)
    const cases = [
      datagram('imu', { from: OWN, hops: 9 }), // loop, though also over the hop limit
      datagram('gps', { hops: 9 }), // filtered, though also over the hop limit
      datagram('imu', { hops: 2 }), // max-hops
      datagram('imu', { hops: 1 }), // forwarded
      datagram('imu', { hops: 0, from: { address: '10.77.3.4', port: 7 } }), // the same again by another path
      datagram('imu', { sequence: 1, hops: 1 }), // forwarded
    ]
    for (const d of cases) forwarder.datagram(0, d)
    const counters = forwarder.counters()
    expect(counters).toMatchObject({
      received: 6,
      forwarded: 2,
      dropped: { loop: 1, filtered: 1, 'max-hops': 1, duplicate: 1 },
    })
    expect(counters.forwarded + totalDropped(counters)).toBe(counters.received)
  })

  it('drops datagrams from a source the input does not allow= first, before any other check', async () => {
    const out = new FakeOutput('out', ['imu'])
    const tunnel = new FakeInput('udp://0.0.0.0:7500?allow=10.77.1.2', [], ['10.77.1.2', 'fd00::/64'])
    const { forwarder } = setup([tunnel, new FakeInput('any host')], [out], 2)
    const cases = [
      datagram('imu', { from: OUTSIDER }), // not allowed
      datagram('gps', { from: OUTSIDER, hops: 9 }), // not allowed, though also filtered and over the hop limit
      datagram('imu', { from: OWN }), // not allowed, though also a loop
      datagram('imu', { from: { address: '::ffff:10.77.1.2', port: 50000 } }), // the peer, IPv4-mapped
      datagram('imu', { sequence: 1, from: { address: 'fd00::1:2', port: 7 } }), // in the prefix
      datagram('imu', { sequence: 2, from: OUTSIDER }), // not allowed
    ]
    for (const d of cases) forwarder.datagram(0, d)
    forwarder.datagram(1, datagram('imu', { sequence: 3, from: OUTSIDER })) // an input with no allow=
    await settle()
    expect(out.got.map((g) => g.sequence)).toEqual([0, 1, 3])
    const counters = forwarder.counters()
    expect(counters).toMatchObject({
      received: 7,
      forwarded: 3,
      dropped: { 'not-allowed': 4, loop: 0, filtered: 0, 'max-hops': 0, duplicate: 0 },
    })
    expect(counters.forwarded + totalDropped(counters)).toBe(counters.received)
  })

  it('a datagram not allowed leaves no trace: its identity is not remembered, it makes no way back', async () => {
    const out = new FakeOutput('out')
    const input = new FakeInput('tunnel', [], ['10.77.1.2'])
    const { forwarder } = setup([input], [out])
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST, from: OUTSIDER }))
    forwarder.datagram(0, datagram('imu', { session: 5, flags: Flag.ACK_REQUEST })) // the same identity
    await settle()
    expect(out.got).toHaveLength(1)
    expect(forwarder.counters()).toMatchObject({ forwarded: 1, dropped: { 'not-allowed': 1, duplicate: 0 } })
    expect(forwarder.counters().tables).toEqual({
      dedup: { entries: 1, evicted: 0 },
      'ack-routes': { entries: 1, evicted: 0 },
    })
  })

  it('counts the identities the de-duplication forgets to make room', () => {
    const { forwarder } = setup([new FakeInput('in')], [new FakeOutput('out')], { dedupEntries: 3 })
    for (let sequence = 0; sequence < 10; sequence++) forwarder.datagram(0, datagram('imu', { sequence }))
    expect(forwarder.counters().tables.dedup).toEqual({ entries: 3, evicted: 7 })
    // forgotten, so a late copy of the first passes again
    forwarder.datagram(0, datagram('imu', { sequence: 0 }))
    expect(forwarder.counters()).toMatchObject({ forwarded: 11, dropped: { duplicate: 0 } })
  })

  it('counts a failed send against its output and reports it', async () => {
    const broken = new FakeOutput('broken')
    broken.fail = true
    const fine = new FakeOutput('fine')
    const { forwarder, errors } = setup([new FakeInput('in')], [broken, fine])
    forwarder.datagram(0, datagram('imu'))
    await settle()
    expect(fine.got).toHaveLength(1)
    expect(forwarder.counters().outputs).toEqual([
      { route: 'broken', sent: 1, errors: 1, oversize: 0 },
      { route: 'fine', sent: 1, errors: 0, oversize: 0 },
    ])
    expect(errors).toEqual(['broken'])
  })

  it('counts datagrams larger than an output’s budget, and reports the first one', () => {
    // 36-byte header + topic + 3-byte payload + 4-byte CRC: 46 bytes for imu and gps, 47 for abcd
    const small = new FakeOutput('small', [], 45)
    const large = new FakeOutput('large', [], 46)
    const { forwarder, oversize } = setup([new FakeInput('in')], [small, large])
    for (const topic of ['imu', 'gps', 'abcd']) forwarder.datagram(0, datagram(topic))
    expect(forwarder.counters().outputs.map((o) => [o.route, o.sent, o.oversize])).toEqual([
      ['small', 3, 3],
      ['large', 3, 1],
    ])
    expect(oversize).toEqual([
      ['small', 46, 45],
      ['large', 47, 46],
    ])
  })
})
