import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Whether `systemd-analyze` runs on this host (containers and macOS often lack it). */
export function hasSystemdAnalyze(): boolean {
  return spawnSync('systemd-analyze', ['--version']).status === 0
}

export interface UnitVerification {
  readonly status: number | null
  /** Every complaint, warnings included: verify exits 0 on an unknown key but says so here. */
  readonly stderr: string
}

/**
 * `systemd-analyze verify` on a unit's text, saved as `fileName` (verify reads the unit type from the
 * suffix) in a scratch directory removed afterwards. `/usr/bin/node` becomes this host's node, so
 * that verify does not stop at a missing command where Node lives elsewhere.
 */
export function verifySystemdUnit(unit: string, fileName: string): UnitVerification {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-unit-'))
  try {
    const file = join(dir, fileName)
    writeFileSync(file, unit.replace('/usr/bin/node', process.execPath))
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 30_000 })
    if (verify.error !== undefined) throw verify.error
    return { status: verify.status, stderr: verify.stderr }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
