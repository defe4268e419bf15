import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Imu, loadProtoTypes } from '@shoal/schema'
import { runCli } from '@shoal/service/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, jsonLines, receiverWithPublisher, requireBuild } from './support.js'

/**
 * Deploy, way 1: dist/shoal-recv.js is the whole program. Copied alone to a directory outside the
 * workspace (no node_modules anywhere above it), it runs with plain node.
 */
describe('the single-file bundle, outside the workspace', () => {
  let dir: string
  let copy: string
  beforeAll(() => {
    requireBuild()
    dir = mkdtempSync(join(tmpdir(), 'shoal-recv-bundle-'))
    copy = join(dir, 'shoal-recv.js')
    copyFileSync(BIN, copy)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('--help and --version', async () => {
    const help = await runCli(copy, ['--help'], { cwd: dir })
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: shoal-recv \[options\]\n/)
    const version = await runCli(copy, ['--version'], { cwd: dir })
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^shoal-recv \d+\.\d+\.\d+\n$/)
  })

  it('records MCAP and reads it back with --from: the compression is inside the one file', async () => {
    const file = join(dir, 'run.mcap')
    const { rx, pub } = await receiverWithPublisher(['--count', '2', '--record', file, '--output', 'json'], {
      script: copy,
      cwd: dir,
    })
    try {
      await pub.publish('imu', Imu, { linearAcceleration: { z: 9.81 } })
      await pub.publish('imu', Imu, { linearAcceleration: { z: 9.7 } })
      const live = await rx.exited
      expect(live.code).toBe(0)
      const from = await runCli(copy, ['--from', file], { cwd: dir })
      expect(from.code).toBe(0)
      expect(from.stdout).toBe(live.stdout)
      expect(jsonLines(from.stdout)).toHaveLength(2)
    } finally {
      await pub.close()
    }
  })

  it('decodes a --proto type whose .proto imports Shoal’s header.proto, with no Shoal file on disk', async () => {
    const proto = join(dir, 'wind.proto')
    copyFileSync(fileURLToPath(new URL('./fixtures/proto/wind.proto', import.meta.url)), proto)
    const Wind = loadProtoTypes([proto]).types.find((type) => type.typeName === 'acme.v1.Wind')!
    const { rx, pub } = await receiverWithPublisher(['--count', '1', '--proto', proto], {
      script: copy,
      cwd: dir,
    })
    try {
      await pub.publish('weather/wind', Wind, Wind.fromObject({ header: { sourceId: 'mast1' }, speed: 7.5 }))
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout)).toMatchObject([
        {
          topic: 'weather/wind',
          type: 'acme.v1.Wind',
          message: { header: { sourceId: 'mast1' }, speed: 7.5 },
        },
      ])
    } finally {
      await pub.close()
    }
  })

  it('receives on loopback', async () => {
    const { rx, pub } = await receiverWithPublisher(['--count', '1'], { script: copy, cwd: dir })
    try {
      await pub.publish('imu', Imu, { linearAcceleration: { z: 9.81 } })
      const result = await rx.exited
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout)).toMatchObject([
        { topic: 'imu', type: 'shoal.v1.Imu', message: { linearAcceleration: { z: 9.81 } } },
      ])
    } finally {
      await pub.close()
    }
  })
})
