/** The `Udp:` counters of a /proc/net/snmp text (a header line of names, then a line of values). */
import type { UdpCounters } from './protocol.js'

export function parseUdpCounters(text: string): UdpCounters {
  const lines = text.split('\n').filter((line) => line.startsWith('Udp:'))
  const names = lines[0]?.trim().split(/\s+/) ?? []
  const values = lines[1]?.trim().split(/\s+/).map(Number) ?? []
  const get = (name: string) => {
    const at = names.indexOf(name)
    return at < 0 ? 0 : (values[at] ?? 0)
  }
  return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors'), inErrors: get('InErrors') }
}
