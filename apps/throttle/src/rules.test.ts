import { describe, expect, it } from 'vitest'
import { DEFAULT_LATEST_HZ, MAX_RATE_HZ, type Rule, ruleFor, ruleValue, specificity } from './rules.js'

const rate = (text: string) => ruleValue('rate').safeParse(text)
const latest = (text: string) => ruleValue('latest').safeParse(text)

describe('ruleValue', () => {
  it('reads TOPIC=HZ for --rate, with exact, prefix and * topics and fractional rates', () => {
    expect(rate('sensors/imu=10').data).toEqual({ kind: 'rate', topic: 'sensors/imu', hz: 10, periodMs: 100 })
    expect(rate('sensors/*=0.5').data).toMatchObject({ topic: 'sensors/*', hz: 0.5, periodMs: 2_000 })
    expect(rate('*=1000').data).toMatchObject({ topic: '*', periodMs: 1 })
  })

  it('takes --latest TOPIC alone at the default rate', () => {
    expect(latest('camera').data).toMatchObject({ kind: 'latest', topic: 'camera', hz: DEFAULT_LATEST_HZ })
    expect(latest('camera=4').data).toMatchObject({ hz: 4, periodMs: 250 })
  })

  it.each([
    'imu',
    'imu=',
    'imu=0',
    'imu=-1',
    `imu=${MAX_RATE_HZ + 1}`,
    'imu=fast',
    'imu=1e3',
    'a b=1',
    's*=1',
    '=1',
  ])('refuses --rate %s', (text) => {
    expect(rate(text).success).toBe(false)
  })
})

describe('ruleFor', () => {
  const rules = ['*=1', 'sensors/*=2', 'sensors/front/*=3', 'sensors/front/imu=4'].map(
    (t) => rate(t).data as Rule,
  )
  it('picks the most specific rule whatever the order', () => {
    for (const order of [rules, [...rules].reverse()]) {
      expect(ruleFor(order, 'sensors/front/imu')?.hz).toBe(4)
      expect(ruleFor(order, 'sensors/front/gps')?.hz).toBe(3)
      expect(ruleFor(order, 'sensors/rear/gps')?.hz).toBe(2)
      expect(ruleFor(order, 'camera')?.hz).toBe(1)
    }
  })

  it('finds none when nothing matches', () => {
    expect(ruleFor(rules.slice(1), 'camera')).toBeUndefined()
    expect(specificity('*')).toBeLessThan(specificity('a/*'))
    expect(specificity('a/*')).toBeLessThan(specificity('a/b/*'))
    expect(specificity('a/b/*')).toBeLessThan(specificity('a'))
  })
})
