import { describe, expect, it } from 'vitest'
import { parsePrometheusText, sampleValue } from './prom-text.js'

describe('parsePrometheusText', () => {
  it('reads help, type, labels, special values and timestamps', () => {
    const families = parsePrometheusText(
      [
        '# HELP x_total Things, counted.',
        '# TYPE x_total counter',
        'x_total{a="1",b="q\\"uote\\\\ \\n"} 3',
        'x_total{a="2"} 1e3 1700000000000',
        '# TYPE h histogram',
        'h_bucket{le="+Inf"} 2',
        'h_sum 1.5',
        'h_count 2',
        '# a comment',
        'up NaN',
        'down -Inf',
        '',
      ].join('\n'),
    )
    expect(families.get('x_total')).toMatchObject({ help: 'Things, counted.', type: 'counter' })
    expect(sampleValue(families, 'x_total', { a: '1' })).toBe(3)
    expect(families.get('x_total')?.samples[0]?.labels.b).toBe('q"uote\\ \n')
    expect(families.get('x_total')?.samples[1]).toMatchObject({ value: 1000, timestamp: 1700000000000 })
    expect(families.get('h')?.samples.map((s) => s.name)).toEqual(['h_bucket', 'h_sum', 'h_count'])
    expect(Number.isNaN(sampleValue(families, 'up'))).toBe(true)
    expect(sampleValue(families, 'down')).toBe(Number.NEGATIVE_INFINITY)
  })

  it("reads NaN and infinities in any letter case, as Prometheus does (prom-client writes 'Nan')", () => {
    const families = parsePrometheusText('a Nan\nb nan\nc inf\nd -Infinity\ne +INF\n')
    expect(Number.isNaN(sampleValue(families, 'a'))).toBe(true)
    expect(Number.isNaN(sampleValue(families, 'b'))).toBe(true)
    expect(sampleValue(families, 'c')).toBe(Number.POSITIVE_INFINITY)
    expect(sampleValue(families, 'd')).toBe(Number.NEGATIVE_INFINITY)
    expect(sampleValue(families, 'e')).toBe(Number.POSITIVE_INFINITY)
  })

  it.each([
    ['x 1', 'does not end with a newline'],
    ['x\n', 'not a sample'],
    ['x one\n', 'bad value'],
    ['x{a=1} 1\n', 'label value not quoted'],
    ['x{a="1} 1\n', 'unterminated'],
    ['x{a="1"b="2"} 1\n', "expected ','"],
    ['x{a="1",a="2"} 1\n', 'duplicate label'],
    ['x{1a="1"} 1\n', 'bad label name'],
    ['x{a="\\t"} 1\n', 'bad escape'],
    ['# TYPE x countr\n', 'malformed metadata'],
    ['x 1\n# TYPE x counter\n', 'TYPE after samples'],
    ['1x 1\n', 'not a sample'],
  ])('rejects %j', (text, reason) => {
    expect(() => parsePrometheusText(text)).toThrow(reason)
  })

  it('sampleValue insists on exactly one match', () => {
    const families = parsePrometheusText('x{a="1"} 1\nx{a="2"} 2\n')
    expect(() => sampleValue(families, 'x')).toThrow('found 2')
    expect(() => sampleValue(families, 'y')).toThrow('found 0')
  })
})
