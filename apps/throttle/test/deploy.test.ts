/**
 * The deploy files stay in step with the package: the unit and the image run the bundle the build
 * writes, the example config is one the service accepts, and systemd accepts the unit.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { configHarness, hasSystemdAnalyze, verifySystemdUnit } from '@shoal/service/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import { resolveThrottleConfig, throttleFlags } from '../src/config.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const read = (path: string) => readFileSync(here(path), 'utf8')
const bundle = pkg.bin['shoal-throttle'].replace(/^\.\//, '')

describe('Dockerfile', () => {
  const dockerfile = read('../Dockerfile')
  it('prunes the workspace to this package with the workspace’s turbo, builds it, and runs the bundle', () => {
    const turbo = JSON.parse(read('../../../node_modules/turbo/package.json')) as { version: string }
    expect(dockerfile).toContain(`turbo@${turbo.version}`)
    expect(dockerfile).toContain(`turbo prune ${pkg.name} --docker`)
    expect(dockerfile).toContain(`pnpm turbo run build --filter=${pkg.name}...`)
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'))
    expect(runtime).toContain(`COPY --from=build /repo/apps/throttle/${bundle} /opt/shoal/shoal-throttle.js`)
    expect(runtime).toMatch(/^\s+SHOAL_HTTP_HOST=127\.0\.0\.1$/m)
    expect(runtime).toMatch(/^USER node$/m)
  })
})

describe('systemd unit', () => {
  const unit = read('../deploy/shoal-throttle.service')
  it('runs the bundle with the example config, and does not restart after a config error (exit 2)', () => {
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/shoal\/shoal-throttle\.js --config \/etc\/shoal\/throttle\.yaml$/m,
    )
    expect(bundle).toBe('dist/shoal-throttle.js')
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m)
  })

  it.skipIf(!hasSystemdAnalyze())('systemd-analyze verify accepts it (skipped where it is missing)', () => {
    expect(verifySystemdUnit(unit, 'shoal-throttle.service')).toEqual({ status: 0, stderr: '' })
  })
})

it('the example config is one the service accepts', () => {
  const { resolve } = configHarness(throttleFlags, resolveThrottleConfig)
  const config = resolve(['--config', here('../deploy/throttle.yaml')])
  expect(config).toMatchObject({ http: 9464, outGroup: '239.255.0.2', unmatched: 'pass' })
  expect(config.rules.map((r) => `${r.kind} ${r.topic}=${r.hz}`)).toEqual([
    'rate sensors/imu=10',
    'rate sensors/*=2',
    'latest camera=1',
  ])
})
