import type { InterfaceRef } from '@shoal/service'
import { configHarness } from '@shoal/service/testing'
import type { SubscriberInfo } from '@shoal/transport'
import { describe, expect, it } from 'vitest'
import { type NetworkReceiverConfig, receiverFlags, resolveReceiverConfig } from './config.js'
import { interfaceFor, reachHint, recvBufferHint, subscriberOptions } from './subscription.js'

const lo: InterfaceRef = {
  spec: '127.0.0.1',
  name: 'lo',
  addresses: [
    { address: '127.0.0.1', family: 'IPv4' },
    { address: '::1', family: 'IPv6', scopeId: 0 },
  ],
}

const info = (more: Partial<SubscriberInfo>): SubscriberInfo => ({
  mode: 'multicast',
  family: 4,
  groups: ['239.255.0.1'],
  source: undefined,
  port: 7400,
  interface: 'lo',
  interfaceAddress: '127.0.0.1',
  bound: { address: '239.255.0.1', port: 7400 },
  budget: 65_507,
  recvBuffer: { requested: 8 * 1024 * 1024, granted: 8 * 1024 * 1024, clamped: false },
  name: 'rx',
  ...more,
})

const table = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
  eth1: [{ address: '10.1.1.1', family: 'IPv4', internal: false }],
  wlan0: [{ address: '10.2.2.2', family: 'IPv4', internal: false }],
} as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>

describe('interfaceFor', () => {
  it('passes on what the user wrote, unless it is an address of the other family', () => {
    expect(interfaceFor(lo, 4)).toBe('127.0.0.1')
    expect(interfaceFor(lo, 6)).toBe('lo')
    expect(interfaceFor({ ...lo, spec: 'lo' }, 6)).toBe('lo')
    expect(interfaceFor({ ...lo, spec: '::1' }, 6)).toBe('::1')
  })
})

describe('reachHint', () => {
  it('on loopback, says how to reach the network, naming the interfaces that could', () => {
    expect(reachHint(info({}), table)).toBe(
      'listening on loopback: only frames sent on this host arrive; to receive from the network, pass --interface eth1 (interfaces: eth1, wlan0)',
    )
    expect(reachHint(info({ mode: 'unicast', bound: { address: '127.0.0.1', port: 7400 } }), table)).toMatch(
      /^listening on loopback/,
    )
  })

  it('says nothing on a real interface, or for broadcast (which hears every interface)', () => {
    expect(reachHint(info({ interface: 'eth1', interfaceAddress: '10.1.1.1' }), table)).toBeUndefined()
    expect(
      reachHint(info({ mode: 'broadcast', bound: { address: '0.0.0.0', port: 7400 } }), table),
    ).toBeUndefined()
  })
})

describe('recvBufferHint', () => {
  it('names the sysctl when the kernel clamped the buffer', () => {
    expect(recvBufferHint(info({}))).toBeUndefined()
    expect(recvBufferHint(info({ recvBuffer: { requested: 8388608, granted: 212992, clamped: true } }))).toBe(
      'receive buffer clamped to 212992 bytes (asked 8388608): bursts may overflow it; raise the limit with sysctl -w net.core.rmem_max=8388608',
    )
  })
})

describe('subscriberOptions', () => {
  const { resolve } = configHarness(receiverFlags, resolveReceiverConfig)
  it('delivers in order with --ordered, as frames arrive without', () => {
    expect(subscriberOptions(resolve([]) as NetworkReceiverConfig).ordered).toBe(false)
    expect(subscriberOptions(resolve(['--ordered']) as NetworkReceiverConfig).ordered).toBe(true)
  })

  it('tells senders how far it got (flow control) unless --no-status', () => {
    expect(subscriberOptions(resolve([]) as NetworkReceiverConfig).status).toBe(true)
    expect(subscriberOptions(resolve(['--no-status']) as NetworkReceiverConfig).status).toBe(false)
  })

  it('asks senders for lost fragments unless --no-repair', () => {
    expect(subscriberOptions(resolve([]) as NetworkReceiverConfig).repair).toBe(true)
    expect(subscriberOptions(resolve(['--no-repair']) as NetworkReceiverConfig).repair).toBe(false)
  })
})
