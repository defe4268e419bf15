import { describe, expect, it } from 'vitest'
import { parseNetnsList } from './cleanup.js'
import { parseDropCounters } from './loss.js'

describe('output parsers', () => {
  it('sums DROP packet counters of iptables -L -n -v -x', () => {
    const stdout = [
      'Chain SHOAL_LOSS (1 references)',
      '    pkts      bytes target     prot opt in     out     source               destination',
      '       5      300 DROP       17   --  v-lan  *       0.0.0.0/0            0.0.0.0/0            statistic mode random probability 1.00000000000',
      '      12      720 DROP       17   --  v-wan  *       0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.50000000000',
      '',
    ].join('\n')
    expect(parseDropCounters(stdout)).toBe(17)
    expect(parseDropCounters('Chain SHOAL_LOSS (1 references)\n pkts bytes target\n')).toBe(0)
  })

  it('reads names from ip netns list with and without ids', () => {
    expect(parseNetnsList('shoal-1-1a2b3c-a (id: 3)\nshoal-1-1a2b3c-sw-lan\n\n')).toEqual([
      'shoal-1-1a2b3c-a',
      'shoal-1-1a2b3c-sw-lan',
    ])
  })
})
