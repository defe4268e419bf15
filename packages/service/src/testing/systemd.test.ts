import { describe, expect, it } from 'vitest'
import { hasSystemdAnalyze, verifySystemdUnit } from './systemd.js'

const unit = (service: string) =>
  `[Unit]\nDescription=test\n\n[Service]\nExecStart=/usr/bin/node -e 0\n${service}\n[Install]\nWantedBy=multi-user.target\n`

describe.skipIf(!hasSystemdAnalyze())('verifySystemdUnit (skipped where systemd-analyze is missing)', () => {
  it('accepts a valid unit that runs /usr/bin/node, wherever Node is installed', () => {
    expect(verifySystemdUnit(unit('Restart=on-failure'), 'shoal-test.service')).toEqual({
      status: 0,
      stderr: '',
    })
  })

  it('reports what systemd would ignore, though verify still exits 0', () => {
    const verification = verifySystemdUnit(unit('NoSuchSetting=1'), 'shoal-test.service')
    expect(verification.stderr).toMatch(/Unknown key '?NoSuchSetting'?/)
  })
})
