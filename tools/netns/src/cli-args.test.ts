import { describe, expect, it } from 'vitest'
import { parseCli, UsageError } from './cli-args.js'

function usageError(argv: string[]): string {
  try {
    parseCli(argv)
  } catch (error) {
    if (error instanceof UsageError) return error.message
    throw error
  }
  throw new Error(`parseCli(${JSON.stringify(argv)}) accepted it`)
}

describe('parseCli', () => {
  it('parses up with hosts and segments', () => {
    expect(
      parseCli(['up', '--hosts', 'a,b,c', '--segment', 'lan:a,b', '--segment', 'wan:b,c', '--ipv6']),
    ).toEqual({
      kind: 'up',
      json: false,
      topology: {
        hosts: ['a', 'b', 'c'],
        segments: [
          { name: 'lan', hosts: ['a', 'b'] },
          { name: 'wan', hosts: ['b', 'c'] },
        ],
        ipv6: true,
      },
    })
  })

  it('defaults to one lan segment, and takes hosts from segments when --hosts is absent', () => {
    expect(parseCli(['up', '--hosts', 'a,b'])).toMatchObject({
      topology: { hosts: ['a', 'b'], segments: [{ name: 'lan', hosts: ['a', 'b'] }] },
    })
    expect(parseCli(['up', '--segment', 'lan:a,r', '--segment', 'wan:r,c', '--json'])).toMatchObject({
      json: true,
      topology: { hosts: ['a', 'r', 'c'] },
    })
  })

  it('parses down scopes, list and help', () => {
    expect(parseCli(['down'])).toEqual({ kind: 'down', scope: 'default' })
    expect(parseCli(['down', '--all'])).toEqual({ kind: 'down', scope: 'all' })
    expect(parseCli(['down', '--run', 'shoal-cli-1a2b3c'])).toEqual({
      kind: 'down',
      scope: { run: 'shoal-cli-1a2b3c' },
    })
    expect(parseCli(['list'])).toEqual({ kind: 'list' })
    expect(parseCli(['--help'])).toEqual({ kind: 'help' })
    expect(parseCli(['up', '-h'])).toEqual({ kind: 'help' })
  })

  it.each([
    [['up', '--frobnicate'], /--frobnicate/],
    [['up', '--hosts'], /--hosts/],
    [['up', '--hosts', 'a,B'], /--hosts "a,B": "B" is not a valid name/],
    [['up', '--segment', 'lan'], /--segment "lan": expected NAME:HOST,HOST/],
    [['up', '--segment', 'Lan:a'], /--segment "Lan:a": "Lan" is not a valid segment name/],
    [['up', '--hosts', 'a', '--segment', 'lan:a,b'], /--segment lan:a,b: host "b" is not in --hosts a/],
    [['up'], /up needs --hosts/],
    [['down', '--hosts', 'a'], /--hosts is not a flag of down/],
    [['down', '--run', 'x'], /--run "x": expected a run id/],
    [['down', '--run', 'shoal-cli-1a2b3c', '--all'], /--run and --all exclude each other/],
    [['list', '--all'], /--all is not a flag of list/],
    [['sideways'], /unknown command "sideways"/],
    [['up', 'extra'], /unexpected argument "extra"/],
    [[], /missing command/],
  ])('rejects %j naming the culprit', (argv, message) => {
    expect(usageError(argv)).toMatch(message)
  })
})
