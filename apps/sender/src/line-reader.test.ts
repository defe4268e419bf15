import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { type Line, readLines } from './line-reader.js'

async function lines(
  chunks: readonly (string | Buffer)[],
  max = 100,
): Promise<Array<[number, string | 'too long']>> {
  const out: Array<[number, string | 'too long']> = []
  for await (const batch of readLines(Readable.from(chunks), max, new AbortController().signal))
    for (const line of batch) out.push([line.number, line.tooLong ? 'too long' : line.bytes.toString()])
  return out
}

describe('readLines', () => {
  it('splits on \\n and \\r\\n across chunks, counting blank lines, with a last line without newline', async () => {
    expect(await lines(['a\nb', 'c\r\n\n', 'd\r', '\ne'])).toEqual([
      [1, 'a'],
      [2, 'bc'],
      [3, ''],
      [4, 'd'],
      [5, 'e'],
    ])
  })

  it('reports lines over the cap as too long, within a chunk and across chunks, and goes on', async () => {
    expect(await lines(['12345\nok\n123', '456\nfine\n1234567'], 5)).toEqual([
      [1, '12345'],
      [2, 'ok'],
      [3, 'too long'],
      [4, 'fine'],
      [5, 'too long'],
    ])
  })

  it('yields nothing for empty input', async () => {
    expect(await lines([])).toEqual([])
  })

  it('stops when the signal aborts, while waiting for input', async () => {
    const input = new PassThrough()
    const controller = new AbortController()
    const seen: Line[] = []
    const done = (async () => {
      for await (const batch of readLines(input, 100, controller.signal)) seen.push(...batch)
    })()
    input.write('one\n')
    for (let waited = 0; seen.length === 0; waited += 10) {
      if (waited > 5000) throw new Error('the first line never arrived')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    controller.abort() // the reader now waits for input that never comes
    await done
    expect(seen.map((line) => line.bytes?.toString())).toEqual(['one'])
  })
})
