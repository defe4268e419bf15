import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { prefixProblem, subjectToTopic, topicToSubject } from './subject.js'

describe('topic ↔ NATS subject', () => {
  it('maps / to . and escapes what NATS does not allow', () => {
    expect(topicToSubject('shoal', 'sensors/imu')).toBe('shoal.sensors.imu')
    expect(topicToSubject('a.b', 'cam 1/raw.v2')).toBe('a.b.cam%201.raw%2Ev2')
    expect(topicToSubject('p', 'x*>%')).toBe('p.x%2A%3E%25')
    expect(topicToSubject('p', 'a//b/')).toBe('p.a.%.b.%')
    expect(topicToSubject('p', 'é')).toBe('p.%C3%A9')
  })

  it('maps back every topic it maps (any UTF-8), and only canonical subjects', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (topic) => {
        const subject = topicToSubject('site.shoal', topic)
        expect(subject).not.toMatch(/[\s*>]|\.\.|\.$/)
        expect(subjectToTopic('site.shoal', subject)).toBe(topic)
      }),
    )
    expect(subjectToTopic('p', 'p.%41')).toBeUndefined()
    expect(subjectToTopic('p', 'p.a%2')).toBeUndefined()
    expect(subjectToTopic('p', 'p.%FF')).toBeUndefined()
    expect(subjectToTopic('p', 'q.a')).toBeUndefined()
    expect(subjectToTopic('p', 'p')).toBeUndefined()
  })

  it('takes prefixes of subject tokens only', () => {
    expect(prefixProblem('site-a.shoal')).toBeUndefined()
    for (const bad of ['', 'a..b', 'a.', 'a*', 'a>', 'a b', 'x'.repeat(129)])
      expect(prefixProblem(bad)).toBeDefined()
  })
})
