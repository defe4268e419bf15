import { describe, expect, it } from 'vitest'
import { fakeDoctorEnv } from '../testing/doctor-env.js'
import { checkFirewall, dropFinding, parseIptables, parseNft, portIn } from './firewall.js'
import type { DoctorTarget } from './types.js'

// Captured with iptables-nft 1.8.9 and nft 1.0 in a private namespace.
const IPTABLES = `-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -i lo -p udp -m udp --dport 7000:7500 -j ACCEPT
-A INPUT -p udp -m udp --dport 7400 -j DROP
-A INPUT -p udp -m statistic --mode random --probability 0.10000000009 -j DROP
`
const NFT = `table ip filter { # handle 1
\tchain INPUT { # handle 1
\t\ttype filter hook input priority filter; policy accept;
\t\tiifname "lo" udp dport 7000-7500 counter packets 0 bytes 0 accept # handle 2
\t\tudp dport 7400 counter packets 0 bytes 0 drop # handle 3
\t\tmeta l4proto udp meta random & 2147483647 < 214748365 counter packets 0 bytes 0 drop # handle 4
\t}
}
table inet f { # handle 2
\tchain in { # handle 1
\t\ttype filter hook input priority filter; policy accept;
\t\tudp dport { 7400, 7600-7700 } counter packets 0 bytes 0 drop # handle 3
\t}
}
`
const want = (port: number, iface?: string) => ({ port, interface: iface })

describe('portIn', () => {
  it('reads single ports, ranges of both spellings, and lists', () => {
    expect(portIn('7400', 7400)).toBe(true)
    expect(portIn('7000:7500', 7400)).toBe(true)
    expect(portIn('7600-7700', 7400)).toBe(false)
    expect(portIn('7400, 7600-7700', 7650)).toBe(true)
    expect(portIn('53,123', 7400)).toBe(false)
  })
})

describe('iptables -S', () => {
  it('finds the DROP rule for the port, with the command that deletes it', () => {
    expect(dropFinding(parseIptables(IPTABLES, want(7400, 'v-a')), 7400)).toEqual({
      detail: 'a rule drops udp port 7400 (input): -A INPUT -p udp -m udp --dport 7400 -j DROP',
      fix: 'iptables -D INPUT -p udp -m udp --dport 7400 -j DROP',
    })
  })

  it('lets an earlier ACCEPT on the interface decide first', () => {
    expect(dropFinding(parseIptables(IPTABLES, want(7400, 'lo')), 7400)).toBeUndefined()
  })

  it('reports a rule it cannot read fully (random loss) as one that may drop', () => {
    const finding = dropFinding(parseIptables(IPTABLES, want(9000, 'v-a')), 9000)
    expect(finding?.detail).toContain('may drop udp port 9000')
    expect(finding?.fix).toBe(
      'iptables -D INPUT -p udp -m statistic --mode random --probability 0.10000000009 -j DROP',
    )
  })

  it('ignores rules for other protocols, ports and interfaces', () => {
    const text = `-P INPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 7400 -j DROP
-A INPUT -p udp -m multiport --dports 53,123 -j DROP
-A INPUT -i eth1 -p udp -j REJECT --reject-with icmp-port-unreachable
-A OUTPUT -o eth1 -p udp -m udp --dport 7400 -j DROP
`
    expect(dropFinding(parseIptables(text, want(7400, 'v-a')), 7400)).toBeUndefined()
    expect(dropFinding(parseIptables(text, want(7400, 'eth1')), 7400)?.fix).toBe(
      'iptables -D INPUT -i eth1 -p udp -j REJECT --reject-with icmp-port-unreachable',
    )
  })

  it('fails a DROP policy unless a rule accepts the port', () => {
    const closed = '-P INPUT DROP\n-P OUTPUT ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n'
    expect(dropFinding(parseIptables(closed, want(7400)), 7400)).toEqual({
      detail: 'the input policy is DROP and no rule accepts udp port 7400',
      fix: 'iptables -I INPUT -p udp --dport 7400 -j ACCEPT',
    })
    const open = `${closed}-A INPUT -p udp -m udp --dport 7400 -j ACCEPT\n`
    expect(dropFinding(parseIptables(open, want(7400)), 7400)).toBeUndefined()
  })
})

describe('nft -a list ruleset', () => {
  it('finds drops in input-hook chains, with the handle to delete', () => {
    expect(dropFinding(parseNft(NFT, want(7400, 'v-a')), 7400)).toEqual({
      detail: 'a rule drops udp port 7400 (input): udp dport 7400 counter packets 0 bytes 0 drop',
      fix: 'nft delete rule ip filter INPUT handle 3',
    })
    expect(dropFinding(parseNft(NFT, want(7650, 'lo')), 7650)?.fix).toBe(
      'nft delete rule ip filter INPUT handle 4',
    )
  })

  it('reads sets of ports and policies', () => {
    const onlySets = NFT.slice(NFT.indexOf('table inet f'))
    expect(dropFinding(parseNft(onlySets, want(7650)), 7650)?.fix).toBe('nft delete rule inet f in handle 3')
    expect(dropFinding(parseNft(onlySets, want(7500)), 7500)).toBeUndefined()
    const closed =
      'table inet f {\n\tchain out {\n\t\ttype filter hook output priority 0; policy drop;\n\t}\n}\n'
    expect(dropFinding(parseNft(closed, want(7400)), 7400)?.fix).toBe(
      'nft insert rule inet f out udp dport 7400 accept',
    )
  })
})

describe('checkFirewall', () => {
  const target: DoctorTarget = {
    role: 'receive',
    mode: 'multicast',
    family: 4,
    interface: { spec: 'v-a', name: 'v-a', addresses: [] },
    address: '239.255.0.1',
    port: 7400,
  }

  it('fails on the first tool that shows a drop', async () => {
    const env = fakeDoctorEnv({
      commands: { 'iptables -S': { stdout: IPTABLES }, 'nft -a list ruleset': { stdout: NFT } },
    })
    expect(await checkFirewall(target, env)).toMatchObject({
      name: 'firewall',
      ok: false,
      fix: expect.stringMatching(/^iptables -D/),
    })
    expect(env.ran).toEqual(['iptables -S'])
  })

  it('passes when neither shows one, naming what it read; ip6tables for IPv6', async () => {
    const env = fakeDoctorEnv({
      commands: { 'ip6tables -S': { stdout: '-P INPUT ACCEPT\n' }, 'nft -a list ruleset': { stdout: '' } },
    })
    expect(await checkFirewall({ ...target, family: 6 }, env)).toEqual({
      name: 'firewall',
      ok: true,
      detail: 'no rule drops udp port 7400 (ip6tables, nft)',
    })
  })

  it('skips when the rules cannot be read, saying why', async () => {
    const env = fakeDoctorEnv({
      commands: {
        'iptables -S': {
          status: 4,
          stderr:
            'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n',
        },
      },
    })
    const check = await checkFirewall(target, env)
    expect(check).toMatchObject({
      ok: true,
      skipped: true,
      detail: expect.stringContaining('Permission denied'),
    })
    expect((await checkFirewall(target, fakeDoctorEnv())).detail).toBe(
      'neither iptables nor nft is installed',
    )
  })
})
