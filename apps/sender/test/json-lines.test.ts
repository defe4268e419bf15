/** JSON lines from stdin and from a file, published over 127.0.0.1 and received by a subscriber. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Heartbeat, Scalar, Temperature } from '@shoal/schema'
import { startCli } from '@shoal/service/testing'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { BIN, type Collector, collect, endpointArgs, summaryOf, uniqueEndpoint, waitFor } from './support.js'

const open: Collector[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})
const scratch = mkdtempSync(join(tmpdir(), 'shoal-send-jsonl-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const LINES = [
  '{"topic":"temperature","message":{"celsius":21.5}}',
  '{"topic":"room/humidity","type":"Scalar","message":{"value":48.5,"unit":"%","quantity":"relative_humidity"}}',
  '{"topic":"temperature","message":{"celsius":"warm"}}', // line 3: bad value
  '',
  '{"topic":"heartbeat","type":"shoal.v1.Heartbeat","message":{"header":{"sourceId":"own-id","stampNs":"1700000000000000000"},"state":"STATE_OK"}}',
]

describe('JSON lines', () => {
  it('publishes the good lines, reports the bad one by line number, and exits 0 at the end of stdin', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    open.push(rx)
    const running = startCli(BIN, [...endpointArgs(endpoint), '--input', '-', '--source-id', 'jsonl-test'], {
      input: `${LINES.join('\n')}\n`,
    })
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= 3, 5000, '3 frames')
    const frames = rx.frames()
    expect(frames.map((f) => [f.topic, f.typeName])).toEqual([
      ['temperature', Temperature.typeName],
      ['room/humidity', Scalar.typeName],
      ['heartbeat', Heartbeat.typeName],
    ])
    expect(Temperature.toObject(frames[0]!.message as never)).toMatchObject({
      celsius: 21.5,
      header: { sourceId: 'jsonl-test' },
    })
    // A stamp was filled in where the line had none; the one given was kept.
    expect(
      (Temperature.toObject(frames[0]!.message as never).header as { stampNs: string }).stampNs,
    ).not.toBe('0')
    expect(Scalar.toObject(frames[1]!.message as never)).toMatchObject({ value: 48.5, unit: '%' })
    expect(Heartbeat.toObject(frames[2]!.message as never)).toMatchObject({
      header: { sourceId: 'own-id', stampNs: '1700000000000000000' },
      state: 'STATE_OK',
    })

    expect(result.stderr).toMatch(/"msg":"stdin:3: .*celsius/)
    expect(result.stderr).not.toMatch(/"msg":"stdin:[1245]:/)
    const summary = summaryOf(result.stderr)
    expect(summary.reason).toBe('end of input')
    expect(summary.fields).toMatchObject({ frames: '3', lines: '5', badLines: '1' })
  })

  it('refuses a line that is not valid UTF-8 as a bad line, never publishing an altered topic', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    open.push(rx)
    const file = join(scratch, 'latin1.jsonl')
    const line = (topic: string | Buffer) =>
      Buffer.concat([
        Buffer.from('{"topic":"'),
        Buffer.from(topic),
        Buffer.from('","type":"Scalar","message":{"value":1}}\n'),
      ])
    writeFileSync(
      file,
      Buffer.concat([
        line('room/caf\u00e9'), // UTF-8: published
        line(Buffer.from('room/caf\u00e9', 'latin1')), // Latin-1 é: once U+FFFD, now a bad line
        line(Buffer.from([0x72, 0x6f, 0x6f, 0x6d, 0x2f, 0xed, 0xa0, 0x80])), // a surrogate: bad
        line('room/ok'),
      ]),
    )
    const running = startCli(BIN, [...endpointArgs(endpoint), '--input', file])
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= 2, 5000, '2 frames')
    expect(rx.frames().map((f) => f.topic)).toEqual(['room/caf\u00e9', 'room/ok'])
    expect(result.stderr).toContain(
      `"msg":"${file}:2: not valid UTF-8 from byte 19 of the line (0xe9 0x22 0x2c 0x22)"`,
    )
    expect(result.stderr).toContain(
      `"msg":"${file}:3: not valid UTF-8 from byte 16 of the line (0xed 0xa0 0x80 0x22)"`,
    )
    expect(result.stderr).not.toContain('\ufffd')
    expect(summaryOf(result.stderr)).toMatchObject({
      reason: 'end of input',
      fields: { frames: '2', lines: '4', badLines: '2' },
    })
  })

  it('reads a file, names it in errors, and stops at --count', async () => {
    const endpoint = uniqueEndpoint()
    const rx = await collect(endpoint)
    open.push(rx)
    const file = join(scratch, 'in.jsonl')
    const lines = [
      'not json',
      ...Array.from(
        { length: 10 },
        (_, i) => `{"topic":"t","type":"Temperature","message":{"celsius":${i}}}`,
      ),
    ]
    writeFileSync(file, lines.join('\r\n')) // CRLF and no final newline
    const running = startCli(BIN, [...endpointArgs(endpoint), '--input', file, '--count', '4'])
    await rx.follow(running)
    const result = await running.exited
    expect(result.code).toBe(0)
    await waitFor(() => rx.frames().length >= 4, 5000, '4 frames')
    expect(rx.frames().map((f) => (f.message as { celsius: number }).celsius)).toEqual([0, 1, 2, 3])
    expect(result.stderr).toContain(`"msg":"${file}:1: not JSON`)
    expect(summaryOf(result.stderr)).toMatchObject({
      reason: 'count reached',
      fields: { frames: '4', badLines: '1' },
    })
  })
})
